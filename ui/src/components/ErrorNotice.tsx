import { ApiError } from '../api.ts';

/** An API error as a user can act on it: code, message, and each issue with its field (and line/column). */
export function ErrorNotice(props: { error: unknown; title?: string }) {
  const { error } = props;
  if (!error) return null;
  const e = error instanceof ApiError ? error : undefined;
  const message = e ? e.message : error instanceof Error ? error.message : String(error);
  return (
    <div class="notice error" role="alert">
      <strong>
        {props.title ? `${props.title}: ` : ''}
        {e ? <code>{e.code}</code> : null} {message}
      </strong>
      {e && e.issues.length > 0 ? (
        <ul>
          {e.issues.map((i, n) => (
            <li key={n}>
              <code>{i.path ?? '(body)'}</code>
              {i.line !== undefined ? ` (line ${i.line}, column ${i.column ?? 1})` : ''}: {i.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
