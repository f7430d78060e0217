import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBody, slackText } from '../../engine/connect/notifier-format.ts';
import type { VeerEvent } from '../../engine/domain/event.ts';

const event = (type: string, value: unknown, tags: string[] = ['x']): VeerEvent => ({
  id: '1700000000000-0',
  type,
  tags,
  value,
  timestamp: '2026-01-01T00:00:00.000Z',
});

describe('notifier bodies', () => {
  it('json: the notifier and the event as stored', () => {
    const e = event('ping', { a: 1 });
    assert.deepEqual(JSON.parse(formatBody('json', 'ops', e)), { notifier: 'ops', event: e });
  });

  it("slack: Slack's incoming-webhook body", () => {
    assert.deepEqual(JSON.parse(formatBody('slack', 'ops', event('ping', 1))), { text: 'ping [x]: 1' });
  });

  it("slack: one readable line with the key values of Veer's own events", () => {
    const cases: Array<[string, unknown, string]> = [
      [
        'gateway.rolled_back',
        {
          gateway: 'shop',
          before: { canary: 10, stable: 90 },
          after: { canary: 0, stable: 100 },
          runId: '01HABC',
          workflow: 'canary',
          cause: 'alert HighErrorRate',
          reason: null,
        },
        ':rewind: gateway shop rolled back: canary 10→0, stable 90→100 (cause: alert HighErrorRate) — run 01HABC (canary)',
      ],
      [
        'gateway.weights',
        { gateway: 'shop', revision: '4', before: { v1: 100, v2: 0 }, after: { v1: 80, v2: 20 } },
        ':twisted_rightwards_arrows: gateway shop weights: v1 100→80, v2 0→20',
      ],
      [
        'gateway.updated',
        { gateway: 'shop', revision: '3', action: 'created', weights: { v1: 50, v2: 50 } },
        ':gear: gateway shop created (v1 50, v2 50), revision 3',
      ],
      ['gateway.updated', { gateway: 'shop', revision: '5', action: 'deleted' }, ':gear: gateway shop deleted, revision 5'],
      [
        'deployment.scaled',
        { deployment: 'web', before: { instances: 2, cpu: 0.5 }, after: { instances: 4, cpu: 0.5 }, runId: 'r1', workflow: 'autoscale' },
        ':straight_ruler: deployment web scaled: instances 2→4 — run r1 (autoscale)',
      ],
      [
        'run.succeeded',
        { runId: 'r2', workflow: 'canary', version: 3, status: 'succeeded', durationMs: 1200 },
        ':white_check_mark: run r2 of canary v3 succeeded in 1200 ms',
      ],
      [
        'run.failed',
        { runId: 'r3', workflow: 'canary', version: 3, error: { code: 'SANDBOX.TIMEOUT' }, durationMs: 50 },
        ':x: run r3 of canary v3 failed: SANDBOX.TIMEOUT after 50 ms',
      ],
      [
        'alert.firing',
        { labels: { alertname: 'HighErrorRate', gateway: 'shop' }, annotations: { summary: '5xx above 5%' } },
        ':rotating_light: alert HighErrorRate firing {gateway=shop}: 5xx above 5%',
      ],
      ['alert.resolved', { alertname: 'HighErrorRate' }, ':large_green_circle: alert HighErrorRate resolved'],
      [
        'trigger.skipped',
        { workflow: 'nightly', trigger: 'cron', reason: 'overlap', runId: 'r4' },
        ':fast_forward: cron trigger of nightly skipped: overlap (run r4)',
      ],
      [
        'workflow.signal',
        { workflow: 'canary', signal: { id: 's1', name: 'promote', sentBy: 'alice', sentAt: '2026-01-01T00:00:00Z' } },
        ':vertical_traffic_light: signal promote sent to canary by alice',
      ],
    ];
    for (const [type, value, text] of cases) assert.equal(slackText(event(type, value)), text, type);
  });

  it('slack: anything else as `type [tags]: compact value`, cut when long, with Slack control characters escaped', () => {
    assert.equal(slackText(event('build', { ok: true }, ['ci', 'ci:shop'])), 'build [ci, ci:shop]: {"ok":true}');
    assert.equal(slackText(event('run.failed', 'not an object')), 'run.failed [x]: "not an object"', 'an unexpected value falls back');
    assert.equal(slackText(event('note', '<!channel> & co')), 'note [x]: "&lt;!channel&gt; &amp; co"');
    const long = slackText(event('big', 'y'.repeat(1000)));
    assert.ok(long.length < 400 && long.endsWith('…'), long);
  });
});
