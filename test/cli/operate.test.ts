import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startCliSystem, type CliSystem } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The operating commands (run, logs, events tail, weights, scale, signal, pause/resume, state,
 * release status) as a user runs them: the `veer` bin against a real Veer.
 */
let s: CliSystem;
const WAIT = { timeoutMs: 20_000 };
const DEMO_SERVICE = fileURLToPath(new URL('../../deploy/local/demo-service.mjs', import.meta.url));

async function putWorkflow(name: string, body: Record<string, unknown>): Promise<void> {
  const r = await s.t.call('PUT', `/api/v1/workflows/${name}`, body);
  assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
}

async function startRun(name: string, input?: unknown): Promise<string> {
  const r = await s.t.call('POST', `/api/v1/workflows/${name}/runs`, input === undefined ? {} : { input });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id as string;
}

const finalRun = (id: string) =>
  waitFor(
    async () => {
      const r = (await s.t.call('GET', `/api/v1/runs/${id}`)).body;
      return ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(r.status) ? r : undefined;
    },
    { ...WAIT, what: `run ${id} to end` },
  );

const signal = async (workflow: string, name: string, value?: unknown) => {
  const r = await s.t.call('POST', `/api/v1/workflows/${workflow}/signals`, { name, ...(value === undefined ? {} : { value }) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
};

before(async () => {
  s = await startCliSystem();
  await putWorkflow('double', {
    script: "export default async function (ctx) { ctx.log.info('doubling', { n: ctx.input.n }); return { doubled: ctx.input.n * 2 } }",
  });
  await putWorkflow('broken', { script: "export default async function (ctx) { ctx.log.error('about to fail'); throw new Error('boom at step 3') }" });
});
after(() => s?.stop());

describe('veer run', () => {
  it('--wait prints the status, duration and result; -o json prints the run', async () => {
    const human = await s.veer(['run', 'double', '--input', '{"n": 21}', '--wait']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /run \S+ {2}succeeded {2}in \S+/);
    assert.match(human.stdout, /result: \{"doubled":42\}/);

    const json = await s.veer(['run', 'double', '--input', '{"n": 5}', '--wait', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const run = JSON.parse(json.stdout);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.result, { doubled: 10 });
    assert.deepEqual(run.input, { n: 5 });
  });

  it('without --wait prints the queued run id, which logs then shows once it ended', async () => {
    const res = await s.veer(['run', 'double', '--input', '{"n": 2}']);
    assert.equal(res.code, 0, res.stderr);
    const id = /run (\S+) {2}queued/.exec(res.stdout)?.[1];
    assert.ok(id, res.stdout);
    await finalRun(id);

    const logs = await s.veer(['logs', id]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^\d{4}-\d\d-\d\dT\S+ INFO +doubling \{"n":2\}$/m);
    const json = await s.veer(['logs', id, '-o', 'json']);
    assert.deepEqual(
      JSON.parse(json.stdout).map((e: { message: string }) => e.message),
      ['doubling'],
    );
    const latest = await s.veer(['logs', '--workflow', 'double']);
    assert.equal(latest.code, 0, latest.stderr);
    assert.equal(latest.stdout, logs.stdout, 'the latest run of double is the one just started');
  });

  it('a failing run exits 1 with its error code and message', async () => {
    const res = await s.veer(['run', 'broken', '--wait']);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /failed/);
    assert.match(res.stderr, /error: run \S+ failed: \S+: .*boom at step 3/);
  });

  it('bad --input JSON is a usage error (exit 2) naming the flag; an unknown workflow exits 3', async () => {
    const bad = await s.veer(['run', 'double', '--input', 'not json']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--input: not JSON/);
    const missing = await s.veer(['run', 'no-such-workflow', '--wait']);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /NOT_FOUND/);
  });

  it('--dry-run lists the effects it would have had, and applies none', async () => {
    await putWorkflow('planner', {
      script:
        "export default async function (ctx) { await ctx.state.set('step', 2); await ctx.events.emit({ tags: ['plans'], type: 'plan' }); return 'planned' }",
    });
    const res = await s.veer(['run', 'planner', '--dry-run']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /CAPABILITY +TARGET +BEFORE +AFTER/);
    assert.match(res.stdout, /state\.set +step +null +2/);
    assert.match(res.stdout, /events\.emit +plans/);
    assert.match(res.stdout, /value: "planned"/);
    assert.deepEqual((await s.t.call('GET', '/api/v1/workflows/planner/state')).body.state, {});
  });
});

describe('veer logs -f', () => {
  it('receives lines written after it started, survives an API restart, and exits when the run ends', async () => {
    // Logs what it is told through signals, until told "bye".
    await putWorkflow('chatty', {
      script: `export default async function (ctx) {
        ctx.log.info('listening');
        for (;;) {
          const s = await ctx.signals.take('say');
          if (s && s.value === 'bye') { ctx.log.info('bye'); return 'done' }
          if (s) ctx.log.info('heard ' + s.value, { word: s.value });
          await ctx.sleep(100);
        }
      }`,
      limits: { timeoutMs: 120_000 },
    });
    const id = await startRun('chatty');
    const follow = s.spawnVeer(['logs', '-f', id]);
    await waitFor(() => follow.stdout().includes('listening'), { ...WAIT, what: 'logs -f to show the first line' });

    await signal('chatty', 'say', 'one');
    await waitFor(() => follow.stdout().includes('heard one'), { ...WAIT, what: 'a line written after logs -f started' });

    await s.stopApi();
    await signal('chatty', 'say', 'two');
    // Written while the API was down: the follower gets it after reconnecting with Last-Event-ID.
    await waitFor(
      async () => (await s.t.call('GET', `/api/v1/runs/${id}/logs`)).body.entries.some((e: { message: string }) => e.message === 'heard two'),
      WAIT,
    );
    await s.startApi();
    await waitFor(() => follow.stdout().includes('heard two'), { ...WAIT, what: 'the line written during the outage' });
    await signal('chatty', 'say', 'three');
    await waitFor(() => follow.stdout().includes('heard three'), { ...WAIT, what: 'a line written after the restart' });

    await signal('chatty', 'say', 'bye');
    const done = await follow.exited;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /INFO +bye$/m);
    // Resumed after the last line it had: nothing shown twice.
    assert.equal(done.stdout.match(/heard one/g)?.length, 1);
    assert.equal(done.stdout.match(/listening/g)?.length, 1);
    assert.match(done.stdout, /heard two \{"word":"two"\}/);
    assert.match(done.stderr, /reconnecting/);
  });

  it('of a failed run exits 1 with its error', async () => {
    const id = await startRun('broken');
    const res = await s.veer(['logs', '-f', id]);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /ERROR +about to fail/);
    assert.match(res.stderr, /run \S+ failed: .*boom at step 3/);
    const missing = await s.veer(['logs', '-f', 'no-such-run']);
    assert.equal(missing.code, 3, missing.stderr);
  });

  it('exits 5 when the API is not there at all (it only keeps retrying once it was connected)', async () => {
    const port = await freePort();
    const res = await s.veer(['logs', '-f', 'some-run'], { env: { VEER_URL: `http://127.0.0.1:${port}` } });
    assert.equal(res.code, 5, res.stderr);
    assert.match(res.stderr, /cannot reach the Veer API/);
  });
});

describe('veer events tail', () => {
  it('prints matching events posted after it started, until Ctrl-C', async () => {
    const tail = s.spawnVeer(['events', 'tail', '--type', 'cli.tail']);
    const tailJson = s.spawnVeer(['events', 'tail', '--tag', 'cli', '--type', 'cli.tail', '-o', 'json']);
    // The stream subscribes once connected, which the client cannot see: post until one arrives.
    let n = 0;
    await waitFor(
      async () => {
        await s.t.call('POST', '/api/v1/events', { tags: ['cli'], type: 'other', value: { n } });
        await s.t.call('POST', '/api/v1/events', { tags: ['cli', 'cli:tail'], type: 'cli.tail', value: { n: n++ } });
        return tail.stdout().includes('cli.tail') && tailJson.stdout().includes('cli.tail');
      },
      { ...WAIT, intervalMs: 200, what: 'events tail to print a posted event' },
    );
    const human = await tail.stop();
    const json = await tailJson.stop();
    assert.equal(human.code, 0, human.stderr);
    assert.equal(json.code, 0, json.stderr);
    assert.match(human.stdout, /^\S+ cli\.tail cli,cli:tail \{"n":\d+\}$/m);
    assert.doesNotMatch(human.stdout, /other/);
    const events = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(events.length > 0 && events.every((e) => e.type === 'cli.tail' && e.tags.includes('cli')));
  });
});

describe('steering: weights, scale, signal, pause/resume', () => {
  it('weights sets a gateway route weights and prints them', async () => {
    const [port, a, b] = await Promise.all([freePort(), freePort(), freePort()]);
    const gw = await s.t.call('PUT', '/api/v1/gateways/shop', {
      port,
      routes: { stable: { weight: 100, targets: [{ host: '127.0.0.1', port: a }] }, canary: { weight: 0, targets: [{ host: '127.0.0.1', port: b }] } },
    });
    assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));
    const res = await s.veer(['weights', 'shop', 'stable=90', 'canary=10']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /ROUTE +WEIGHT/);
    assert.match(res.stdout, /stable +90%/);
    assert.match(res.stdout, /canary +10%/);
    const json = await s.veer(['weights', 'shop', 'stable=75', 'canary=25', '-o', 'json']);
    assert.equal(JSON.parse(json.stdout).routes.canary.weight, 25);
    assert.equal((await s.t.call('GET', '/api/v1/gateways/shop')).body.routes.stable.weight, 75);

    const bad = await s.veer(['weights', 'shop', 'stable=lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /weights stable: 'lots' is not a whole number/);
    assert.equal((await s.veer(['weights', 'no-such-gateway', 'a=1'])).code, 3);
    // No gateway agent runs here: --wait cannot see the revision live, and says why.
    const unseen = await s.veer(['weights', 'shop', 'stable=50', 'canary=50', '--wait', '--timeout', '300']);
    assert.equal(unseen.code, 1);
    assert.match(unseen.stderr, /not live after 300 ms \(no gateway agent has reported\)/);
  });

  it('scale changes a local deployment and --wait answers once it is ready', async () => {
    const def = await s.t.call('PUT', '/api/v1/deployments/web?wait=true', {
      command: process.execPath,
      args: [DEMO_SERVICE],
      instances: 1,
      healthCheck: '/health',
    });
    assert.equal(def.status, 200, JSON.stringify(def.body));
    try {
      const res = await s.veer(['scale', 'web', '2', '--wait']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /NAME +DESIRED +READY +STATUS/);
      assert.match(res.stdout, /web +2 +2 +ready/);
      const json = await s.veer(['scale', 'web', '1', '--wait', '-o', 'json']);
      assert.equal(json.code, 0, json.stderr);
      assert.equal(JSON.parse(json.stdout).desiredInstances, 1);
      assert.equal((await s.veer(['scale', 'web', 'many'])).code, 2);
    } finally {
      await s.t.call('DELETE', '/api/v1/deployments/web');
    }
  });

  it('signal says whether it started a run; a deleted workflow is a conflict (exit 4)', async () => {
    await putWorkflow('gated', {
      script: "export default async function (ctx) { const s = await ctx.signals.take('promote'); return s ? s.value : null }",
      trigger: { signals: true },
    });
    const res = await s.veer(['signal', 'gated', 'promote', '--value', '{"by":"cli"}']);
    assert.equal(res.code, 0, res.stderr);
    const runId = /started run (\S+)/.exec(res.stdout)?.[1];
    assert.ok(runId, res.stdout);
    assert.deepEqual((await finalRun(runId)).result, { by: 'cli' });

    const json = await s.veer(['signal', 'double', 'poke', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).signal.name, 'poke');
    const plain = await s.veer(['signal', 'double', 'poke']);
    assert.match(plain.stdout, /no run started/);
    assert.equal((await s.veer(['signal', 'double', 'x', '--value', '{oops'])).code, 2);

    await putWorkflow('short-lived', { script: 'export default async () => 1' });
    assert.equal((await s.t.call('DELETE', '/api/v1/workflows/short-lived')).status, 204);
    const conflict = await s.veer(['signal', 'short-lived', 'promote']);
    assert.equal(conflict.code, 4, conflict.stderr);
    assert.match(conflict.stderr, /WORKFLOW\.DELETED/);
  });

  it('pause and resume a workflow, with the reason shown', async () => {
    const paused = await s.veer(['pause', 'gated', '--reason', 'investigating v3']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /workflow gated paused by \S+ .*: investigating v3/);
    assert.equal((await s.t.call('GET', '/api/v1/workflows/gated')).body.paused.reason, 'investigating v3');
    const again = await s.veer(['pause', 'gated', '-o', 'json']);
    assert.equal(JSON.parse(again.stdout).paused.reason, 'investigating v3', 'pausing again keeps the first pause');

    const resumed = await s.veer(['resume', 'gated']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /workflow gated resumed/);
    assert.ok(!(await s.t.call('GET', '/api/v1/workflows/gated')).body.paused);
    assert.equal((await s.veer(['pause', 'no-such-workflow'])).code, 3);
  });
});

describe('veer state', () => {
  it('gets, sets, deletes and resets keys', async () => {
    await putWorkflow('keeper', { script: 'export default async () => 1' });
    const empty = await s.veer(['state', 'keeper']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /no state/);

    assert.equal((await s.veer(['state', 'keeper', 'set', 'config', '{"step": 3}'])).code, 0);
    assert.equal((await s.veer(['state', 'keeper', 'set', 'count', '7'])).code, 0);
    const table = await s.veer(['state', 'keeper', 'get']);
    assert.match(table.stdout, /KEY +VALUE/);
    assert.match(table.stdout, /config +\{"step":3\}/);
    assert.match(table.stdout, /count +7/);
    const one = await s.veer(['state', 'keeper', 'get', 'config', '-o', 'json']);
    assert.deepEqual(JSON.parse(one.stdout), { step: 3 });
    assert.deepEqual(JSON.parse((await s.veer(['state', 'keeper', '-o', 'json'])).stdout), { config: { step: 3 }, count: 7 });

    assert.equal((await s.veer(['state', 'keeper', 'get', 'nothing'])).code, 3);
    const bad = await s.veer(['state', 'keeper', 'set', 'k', 'not json']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not JSON/);
    assert.equal((await s.veer(['state', 'keeper', 'frobnicate'])).code, 2);

    assert.equal((await s.veer(['state', 'keeper', 'delete', 'count'])).code, 0);
    assert.equal((await s.veer(['state', 'keeper', 'delete', 'count'])).code, 3, 'deleting an absent key is not found');
    const reset = await s.veer(['state', 'keeper', 'reset']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /1 key\(s\) deleted/);
    assert.deepEqual((await s.t.call('GET', '/api/v1/workflows/keeper/state')).body.state, {});
  });
});

describe('veer release status', () => {
  it("shows the canary's phase, step and history of checks from its real state", async () => {
    const [port, a, b] = await Promise.all([freePort(), freePort(), freePort()]);
    const gw = await s.t.call('PUT', '/api/v1/gateways/store', {
      port,
      routes: { stable: { weight: 100, targets: [{ host: '127.0.0.1', port: a }] }, canary: { weight: 0, targets: [{ host: '127.0.0.1', port: b }] } },
    });
    assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));
    const template = (await s.t.call('GET', '/api/v1/templates/canary-release')).body.workflow;
    const { trigger: _cron, ...body } = template;
    await putWorkflow('store-canary', {
      ...body,
      env: { ...body.env, GATEWAY: 'store', RELEASE: 'v2', CANARY_DEPLOYMENT: null, STEPS: '[5, 25, {"pause": "manual"}, 100]' },
      permissions: { gateways: ['store'] },
    });

    const none = await s.veer(['release', 'status', 'store-canary']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /no release state yet/);

    // Two real runs: the first step (5 %, nothing to judge at 0), then a hold (no traffic, noData).
    for (let i = 0; i < 2; i++) assert.equal((await finalRun(await startRun('store-canary'))).status, 'succeeded');
    const res = await s.veer(['release', 'status', 'store-canary']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Release: +v2/);
    assert.match(res.stdout, /Phase: +progressing/);
    assert.match(res.stdout, /Step: +1\/4, canary weight 5%/);
    assert.match(res.stdout, /Triggers: +active/);
    assert.match(res.stdout, /STEP +WEIGHT +VERDICT +ERROR-RATE +P99 +SAMPLES +AT/);
    assert.match(res.stdout, /^step +5% +skipped /m);
    assert.match(res.stdout, /^hold +5% +noData /m);

    const json = await s.veer(['release', 'status', 'store-canary', '-o', 'json']);
    const state = JSON.parse(json.stdout);
    assert.equal(state.release.id, 'v2');
    assert.equal(state.history.length, 2);

    // A check with numbers, as the canary records one under traffic.
    const passed = {
      time: new Date().toISOString(),
      weight: 5,
      action: 'step',
      phase: 'progressing',
      verdict: {
        outcome: 'pass',
        canary: { requests: 240, errorRate: 0.005, p99: 12.5, noData: false },
        stable: { requests: 4000, errorRate: 0.004, p99: 11, noData: false },
        checks: [{ check: 'errorRate', value: 0.005, limit: 0.05, ok: true }],
      },
    };
    await s.t.call('PUT', '/api/v1/workflows/store-canary/state/history', [...state.history, passed]);
    await s.t.call('PUT', '/api/v1/workflows/store-canary/state/release', {
      ...state.release,
      stepIndex: 2,
      weight: 25,
      phase: 'paused',
      pausedSince: passed.time,
    });
    await s.t.call('POST', '/api/v1/workflows/store-canary/pause', { reason: 'watching' });
    const numbers = await s.veer(['release', 'status', 'store-canary']);
    assert.match(numbers.stdout, /^step +5% +pass +0\.5% +12\.5ms +240 /m);
    assert.match(numbers.stdout, /Phase: +paused \(since/);
    assert.match(numbers.stdout, /Step: +3\/4, canary weight 25%/);
    assert.match(numbers.stdout, /Triggers: +paused by \S+ .*: watching/);

    assert.equal((await s.veer(['release', 'status', 'no-such-workflow'])).code, 3);
  });
});
