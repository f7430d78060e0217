import { useState } from 'preact/hooks';
import { api, ApiError, call } from '../../api.ts';
import { Confirm } from '../Confirm.tsx';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { targetName, type GatewayView } from './model.ts';

/**
 * The gateway's route weights as one form (the API wants them to add up to 100 together). Apply
 * sends the revision the form was filled from, so a change made meanwhile by someone else (a
 * canary step, another operator) is refused with 409 instead of overwritten.
 */
export function WeightsForm(props: { gateway: GatewayView; onApplied: () => void; reload: () => Promise<void> }) {
  const { gateway } = props;
  const routes = Object.keys(gateway.routes);
  const [base, setBase] = useState(gateway);
  const [values, setValues] = useState<Record<string, string>>(() => initial(gateway));
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const dirty = Object.entries(values).some(([r, v]) => Number(v) !== base.routes[r]?.weight);
  const conflict = error instanceof ApiError && error.status === 409;

  // The form keeps the revision it was filled from (the table above stays live); it takes the
  // gateway again only when asked: after its own apply, or Reload. It reads that answer itself:
  // the page's own reload can be overtaken by another (a status poll that saw the new revision),
  // and the form must not refill from whichever answer happened to be current then.
  const takeLatest = async () => {
    const latest = await call(api.GET('/api/v1/gateways/{name}', { params: { path: { name: gateway.name } } }));
    setBase(latest as GatewayView);
    setValues(initial(latest as GatewayView));
    void props.reload();
  };

  const next = Object.fromEntries(routes.map((r) => [r, Number(values[r])]));
  const total = Object.values(next).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);

  const apply = async () => {
    setConfirming(false);
    setBusy(true);
    setError(undefined);
    try {
      await call(api.PUT('/api/v1/gateways/{name}/weights', { params: { path: { name: gateway.name } }, body: { ...next, revision: base.revision } }));
      props.onApplied();
      await takeLatest();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const reloadLatest = async () => {
    setError(undefined);
    await takeLatest().catch(setError);
  };

  return (
    <form
      class="weights"
      aria-label={`Weights of ${gateway.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        setError(undefined);
        setConfirming(true);
      }}
    >
      <div class="weights-inputs">
        {routes.map((route) => {
          const id = `weight-${gateway.name}-${route}`;
          const target = targetName(gateway, route);
          return (
            <div class="field" key={route}>
              <label for={id}>{route} weight</label>
              {target !== route ? (
                <label for={id} class="muted target-label">
                  <span class="visually-hidden">{target} weight</span>
                  <span aria-hidden="true">→ {target}</span>
                </label>
              ) : null}
              <input
                id={id}
                type="number"
                min={0}
                max={100}
                step={1}
                inputMode="numeric"
                required
                value={values[route] ?? ''}
                onInput={(e) => setValues({ ...values, [route]: (e.target as HTMLInputElement).value })}
              />
            </div>
          );
        })}
      </div>
      <p class={total === 100 || total === 0 ? 'muted' : 'warn-text'} aria-live="polite">
        Total {total}% {total === 100 || total === 0 ? '' : '(the API wants 100, or all 0)'}
      </p>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Set weights
        </button>
        {dirty ? (
          <button type="button" onClick={() => setValues(initial(base))}>
            Reset
          </button>
        ) : null}
      </div>
      {!conflict && gateway.revision !== base.revision ? (
        <div class="notice info">
          <p>
            The gateway changed (revision {base.revision} → {gateway.revision}) since this form was filled: applying it would be refused.
          </p>
          <button type="button" onClick={() => void reloadLatest()}>
            Use current weights
          </button>
        </div>
      ) : null}
      {conflict ? (
        <div class="notice error" role="alert">
          <p>
            <strong>Stale revision:</strong> another writer changed gateway {gateway.name} after revision {base.revision} was loaded, so nothing was applied.
            Reload the current weights, check them, and set them again.
          </p>
          <button type="button" onClick={() => void reloadLatest()}>
            Reload
          </button>
        </div>
      ) : (
        <ErrorNotice error={error} title="Weights not applied" />
      )}
      <Confirm
        open={confirming}
        title={`Set weights of ${gateway.name}`}
        confirmLabel="Apply"
        onConfirm={() => void apply()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Based on revision <code>{base.revision}</code>:
        </p>
        <ul class="weight-changes">
          {routes.map((r) => (
            <li key={r}>
              {r}: {base.routes[r]?.weight ?? 0}% → {Number.isFinite(next[r]) ? next[r] : '?'}%{next[r] === base.routes[r]?.weight ? ' (unchanged)' : ''}
            </li>
          ))}
        </ul>
      </Confirm>
    </form>
  );
}

function initial(g: GatewayView): Record<string, string> {
  return Object.fromEntries(Object.entries(g.routes).map(([r, v]) => [r, String(v.weight)]));
}
