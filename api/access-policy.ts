import type { ResourceKind, Scope } from '../engine/domain/access.ts';

/**
 * The scope every API route needs, declared in one table so a reviewer sees the whole policy
 * at once: reads need `read`; starting and cancelling runs, posting events (which trigger
 * workflows) and sending signals (promote, abort: an operator steering a release, as with
 * Argo Rollouts' promote/abort) need `run`; defining workflows, gateways and scaling
 * deployments need `write`, and so do pausing or resuming a workflow's triggers and editing
 * its state (both change what every later run does, like a new definition would);
 * defining or removing local deployments (a command run on the engine's host), storing or
 * removing secrets, reading a local deployment's definition (its env) and reading the audit
 * stream need `admin`. A mutating route missing from the table needs `admin`, so a new route is
 * closed until it is placed here.
 */
interface Rule {
  methods: readonly string[];
  /** Segments under /api/v1; `:name` and `:id` capture one segment, a final `*` the rest. */
  path: string;
  scope: Scope;
  /** The kind of the resource `:name` names (a run's resource is its workflow, found by id). */
  kind?: ResourceKind;
}

/** Methods that change nothing: never audited. */
export const READS: readonly string[] = ['GET', 'HEAD', 'OPTIONS'];

const RULES: readonly Rule[] = [
  { methods: ['GET', 'HEAD'], path: '/audit', scope: 'admin' },
  // A local deployment's definition shows its env, which may hold credentials: admin, like defining one.
  { methods: ['GET', 'HEAD'], path: '/deployments/:name/definition', scope: 'admin', kind: 'deployments' },
  { methods: READS, path: '*', scope: 'read' },
  { methods: ['POST'], path: '/workflows/:name/runs', scope: 'run', kind: 'workflows' },
  // Promote and abort are operator actions on a running release, like starting a run.
  { methods: ['POST'], path: '/workflows/:name/signals', scope: 'run', kind: 'workflows' },
  // Pausing triggers and editing script state change how a workflow behaves: as defining it does.
  { methods: ['POST'], path: '/workflows/:name/pause', scope: 'write', kind: 'workflows' },
  { methods: ['POST'], path: '/workflows/:name/resume', scope: 'write', kind: 'workflows' },
  { methods: ['DELETE'], path: '/workflows/:name/state', scope: 'write', kind: 'workflows' },
  { methods: ['PUT', 'DELETE'], path: '/workflows/:name/state/*', scope: 'write', kind: 'workflows' },
  { methods: ['POST'], path: '/runs/:id/*', scope: 'run' },
  { methods: ['POST'], path: '/events', scope: 'run' },
  // Alertmanager's alerts become events: like posting them (VEER_ALERTMANAGER_TOKEN is a `run` token for this route alone).
  { methods: ['POST'], path: '/webhooks/alertmanager', scope: 'run' },
  { methods: ['PUT', 'DELETE'], path: '/workflows/:name', scope: 'write', kind: 'workflows' },
  { methods: ['PUT', 'DELETE'], path: '/gateways/:name', scope: 'write', kind: 'gateways' },
  { methods: ['PUT'], path: '/gateways/:name/weights', scope: 'write', kind: 'gateways' },
  { methods: ['PUT'], path: '/deployments/:name/scale', scope: 'write', kind: 'deployments' },
  { methods: ['PUT', 'DELETE'], path: '/deployments/:name', scope: 'admin', kind: 'deployments' },
  { methods: ['PUT', 'DELETE'], path: '/notifiers/:name', scope: 'write' },
  // Secrets hand credentials to scripts: admin, like local deployments (a command on the engine's host).
  { methods: ['PUT', 'DELETE'], path: '/secrets/:name', scope: 'admin' },
];

export interface Access {
  scope: Scope;
  /** The named resource the call acts on, for token globs. */
  target?: { kind: ResourceKind; name: string } | { kind: 'runs'; id: string };
  /** How audit entries name the resource: `gateways/shop`, `runs/<id>`, `events`, or the path. */
  resource: string;
}

function match(rule: Rule, segments: string[]): Record<string, string> | undefined {
  const want = rule.path === '*' ? ['*'] : rule.path.split('/').filter(Boolean);
  const bound: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w === '*' && i === want.length - 1) return i === 0 || segments.length > i ? bound : undefined;
    if (i >= segments.length) return undefined;
    if (w.startsWith(':')) bound[w.slice(1)] = segments[i];
    else if (w !== segments[i]) return undefined;
  }
  return want.length === segments.length ? bound : undefined;
}

/** What a request to `path` (under /api/v1) with `method` needs. */
export function requiredAccess(method: string, path: string): Access {
  const m = method.toUpperCase();
  const segments = path.split('/').filter(Boolean);
  const named = segments.length >= 2 && ['workflows', 'gateways', 'deployments', 'runs'].includes(segments[0]);
  const resource = named ? `${segments[0]}/${segments[1]}` : segments.length ? segments.join('/') : '/';
  for (const rule of RULES) {
    if (!rule.methods.includes(m)) continue;
    const bound = match(rule, segments);
    if (!bound) continue;
    const target =
      rule.kind && bound.name !== undefined
        ? { kind: rule.kind, name: bound.name }
        : bound.id !== undefined
          ? { kind: 'runs' as const, id: bound.id }
          : undefined;
    return { scope: rule.scope, resource, ...(target ? { target } : {}) };
  }
  return { scope: 'admin', resource };
}
