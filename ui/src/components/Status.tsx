/** A run or release status as a labelled badge (colour is never the only cue: the word is there). */
export function Status(props: { value: string | undefined }) {
  const v = props.value ?? 'unknown';
  return <span class={`status status-${v.replace(/[^a-z-]/gi, '')}`}>{v}</span>;
}
