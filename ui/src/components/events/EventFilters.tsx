import { useEffect, useState } from 'preact/hooks';
import { setQuery } from '../../router.tsx';

/** How long typing pauses before a filter goes to the address bar (and reconnects the stream). */
const TYPING_MS = 400;

/** A text filter kept in the query string under `name`, written there once typing pauses. */
function TextFilter(props: { name: string; label: string; value: string; placeholder: string }) {
  const [text, setText] = useState(props.value);
  useEffect(() => setText(props.value), [props.value]);
  useEffect(() => {
    if (text.trim() === props.value) return;
    const timer = setTimeout(() => setQuery(props.name, text.trim() || undefined), TYPING_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const id = `events-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type="search"
        value={text}
        placeholder={props.placeholder}
        autoComplete="off"
        spellcheck={false}
        onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
      />
    </div>
  );
}

/** The events filters (`tag`, `type` in the query string). */
export function EventFilters(props: { tag: string; type: string }) {
  return (
    <form class="filters" role="search" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
      <TextFilter name="tag" label="Tag" value={props.tag} placeholder="e.g. shop, or shop:eu" />
      <TextFilter name="type" label="Type" value={props.type} placeholder="e.g. run.failed" />
    </form>
  );
}
