import { Labels } from '../components/Labels.tsx';
import { api, ApiError, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../use-async.ts';

/** Secrets: names, versions and times only; the API never answers a value. */
export function Secrets() {
  const list = useAsync(() => call(api.GET('/api/v1/secrets')), []);
  // Without VEER_SECRETS_KEY the list still answers (canSeal false, with the hint); a PUT would be 409 SECRETS.NO_KEY.
  const noKey =
    list.data?.canSeal === false
      ? { message: list.data.hint ?? 'VEER_SECRETS_KEY is not set.' }
      : list.error instanceof ApiError && list.error.status === 409 && list.error.code === 'SECRETS.NO_KEY'
        ? list.error
        : undefined;
  const secrets = list.data?.secrets ?? [];
  return (
    <>
      <PageHeader title="Secrets" />
      {noKey ? (
        <div class="notice info" role="status">
          <strong>Secrets are not set up.</strong> {noKey.message}
        </div>
      ) : (
        <ErrorNotice error={list.error} title="Could not load secrets" />
      )}
      {list.loading && !list.data ? <p aria-busy="true">Loading…</p> : null}
      {list.data && secrets.length === 0 ? <p class="muted">No secrets.</p> : null}
      {secrets.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Secrets table">
          <table class="named-rows">
            <caption class="visually-hidden">Secrets (values are never shown)</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Version</th>
                <th scope="col">Labels</th>
                <th scope="col">Created</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {secrets.map((s) => (
                <tr key={s.name}>
                  <th scope="row">
                    <code>{s.name}</code>
                  </th>
                  <td>{s.version}</td>
                  <td>
                    <Labels labels={s.labels} />
                  </td>
                  <td>
                    <Time value={s.createdAt} />
                  </td>
                  <td>
                    <Time value={s.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
