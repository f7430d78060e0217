import { useState } from 'preact/hooks';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { login } from '../session.ts';

/** Exchanges an API token for the session cookie; the token itself is not kept by the page. */
export function Login() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="login">
      <h1>Veer</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            await login(token);
            setToken('');
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <p class="hint">One of VEER_API_TOKENS or VEER_API_TOKENS_FILE. The dashboard can do what the token's scope allows.</p>
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
        <ErrorNotice error={error} title="Login failed" />
      </form>
    </main>
  );
}
