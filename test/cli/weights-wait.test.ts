import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminSocketPath, weightBackendName } from '../../adapters/gateway-agent/render.ts';
import { createRuntimeApi } from '../../adapters/gateway-agent/runtime-api.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from '../e2e/support.ts';
import { startCliSystem, type CliResult, type CliSystem } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * `veer weights <gateway> … --wait` (cli/commands/weights.ts) as a user runs it: the bin against
 * a real Veer, with and without a real gateway agent (HAProxy) serving. The tests run in order:
 * first nobody serves the gateway, then an agent does, then it has stopped.
 */
const GATEWAY = 'ww';

let s: CliSystem;
let agent: E2eAgent | undefined;

/** The revision `veer weights` printed (`gateway <name> revision <n>`): the one --wait waits for. */
const printedRevision = (r: CliResult): string => {
  const m = /^gateway \S+ revision (\S+)$/m.exec(r.stdout);
  assert.ok(m, `no revision line in: ${r.stdout}`);
  return m[1]!;
};

const storedWeights = async () => {
  const g = (await s.t.call('GET', `/api/v1/gateways/${GATEWAY}`)).body;
  return { stable: g.routes.stable.weight, canary: g.routes.canary.weight, revision: g.revision as string };
};

describe('veer weights --wait', () => {
  before(async () => {
    s = await startCliSystem();
    const [port, a, b] = await Promise.all([freePort(), freePort(), freePort()]);
    const gw = await s.t.call('PUT', `/api/v1/gateways/${GATEWAY}`, {
      port,
      routes: { stable: { weight: 100, targets: [{ host: '127.0.0.1', port: a }] }, canary: { weight: 0, targets: [{ host: '127.0.0.1', port: b }] } },
    });
    assert.equal(gw.status, 201, JSON.stringify(gw.body));
  });
  after(() => cleanup([agent?.stop, () => s?.stop()]));

  it('nobody serves the gateway: the weights are set, then --wait gives up at --timeout, exit 1, naming the timeout and why', async () => {
    const res = await s.veer(['weights', GATEWAY, 'stable=50', 'canary=50', '--wait', '--timeout', '1500']);
    assert.equal(res.code, 1, res.stderr);
    const revision = printedRevision(res);
    assert.match(res.stdout, /stable +50%/);
    assert.equal(
      res.stderr,
      `error: gateway ${GATEWAY}: revision ${revision} not live after 1500 ms (no gateway agent has reported)\n`,
      'one line: the gateway, the revision, the timeout and why',
    );
    // Only the wait failed: the change itself is stored.
    assert.deepEqual(await storedWeights(), { stable: 50, canary: 50, revision });
    const status = (await s.t.call('GET', `/api/v1/gateways/${GATEWAY}/status`)).body;
    assert.deepEqual([status.live, status.agents], [false, []]);
  });

  it('with an agent serving: --wait returns once the new revision is live (exit 0), and HAProxy then serves the new weights', async () => {
    agent = await startE2eAgent(s.t);
    // The agent serves the earlier revision first, so --wait must see it move to the new one.
    await waitLive(s.t, GATEWAY);
    const earlier = (await storedWeights()).revision;

    const res = await s.veer(['weights', GATEWAY, 'stable=90', 'canary=10', '--wait']);
    assert.equal(res.code, 0, res.stderr);
    const revision = printedRevision(res);
    assert.notEqual(revision, earlier);
    assert.match(res.stdout, /stable +90%/);
    assert.match(res.stdout, /canary +10%/);
    assert.equal(res.stderr, `revision ${revision} is live on 1 agent(s)\n`);

    // No further waiting here: "live" is the CLI's promise that the agent already serves it.
    const status = (await s.t.call('GET', `/api/v1/gateways/${GATEWAY}/status`)).body;
    assert.equal(status.revision, revision);
    assert.equal(status.live, true);
    assert.deepEqual(
      status.agents.map((a: { alive: boolean; appliedRevision?: string; current: boolean }) => [a.alive, a.appliedRevision, a.current]),
      [[true, revision, true]],
    );
    const runtime = createRuntimeApi(adminSocketPath(agent.dir));
    assert.deepEqual(
      {
        stable: await runtime.getWeight(weightBackendName(GATEWAY), 'stable'),
        canary: await runtime.getWeight(weightBackendName(GATEWAY), 'canary'),
      },
      { stable: 90, canary: 10 },
      "HAProxy's weights (runtime API get weight)",
    );
  });

  it('after the agent has stopped, nobody serves it again: --wait times out as before', async () => {
    // The agent removes its status key when it stops (status-reporter.ts), so none has reported.
    const stopping = agent!;
    agent = undefined;
    await stopping.stop();
    const res = await s.veer(['weights', GATEWAY, 'stable=80', 'canary=20', '--wait', '--timeout', '1500']);
    assert.equal(res.code, 1, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(`^error: gateway ${GATEWAY}: revision ${printedRevision(res)} not live after 1500 ms \\(no gateway agent has reported\\)$`, 'm'),
    );
    assert.deepEqual([(await storedWeights()).stable, (await storedWeights()).canary], [80, 20]);
  });
});
