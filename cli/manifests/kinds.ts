/**
 * The five kinds a manifest can hold, in apply order (dependencies first: a notifier's URL may
 * name a secret, a gateway routes to deployments, a workflow reads secrets and steers gateways).
 * Delete and prune go the other way.
 */
export const KINDS = ['Secret', 'Notifier', 'Deployment', 'Gateway', 'Workflow'] as const;
export type Kind = (typeof KINDS)[number];

export interface KindInfo {
  kind: Kind;
  /** `workflow` in `workflow/shop-canary created`, and the value of `--kind`. */
  word: string;
  /** The collection under /api/v1 (`/api/v1/workflows/{name}`), also the key of its list answer. */
  plural: 'secrets' | 'notifiers' | 'deployments' | 'gateways' | 'workflows';
  /**
   * Fields of a GET answer that the server sets (or that describe the live state, not the
   * definition): left out of diffs and exports. Everything else of a GET is the PUT body.
   */
  serverFields: readonly string[];
}

const ALWAYS = ['name', 'createdAt', 'updatedAt'];

export const KIND_INFO: Record<Kind, KindInfo> = {
  Secret: { kind: 'Secret', word: 'secret', plural: 'secrets', serverFields: [...ALWAYS, 'version', 'hasValue'] },
  Notifier: { kind: 'Notifier', word: 'notifier', plural: 'notifiers', serverFields: [...ALWAYS, 'hasSecret'] },
  Deployment: {
    kind: 'Deployment',
    word: 'deployment',
    plural: 'deployments',
    // desiredInstances is the definition's `instances` as the scheduler reports it (see deploymentSpecOf).
    serverFields: [...ALWAYS, 'readyInstances', 'status', 'endpoints', 'cpu', 'memory', 'image', 'generation'],
  },
  Gateway: { kind: 'Gateway', word: 'gateway', plural: 'gateways', serverFields: [...ALWAYS, 'revision'] },
  Workflow: { kind: 'Workflow', word: 'workflow', plural: 'workflows', serverFields: [...ALWAYS, 'version', 'paused', 'quarantined'] },
};

export const kindRank = (k: Kind): number => KINDS.indexOf(k);

/** `workflow`, `workflows`, `Workflow` → Workflow; undefined for anything else. */
export function kindOf(word: string): Kind | undefined {
  const w = word.toLowerCase();
  return KINDS.find((k) => KIND_INFO[k].word === w || KIND_INFO[k].plural === w);
}

/** The annotation the CLI records on every object it applies: `<file relative to cwd>#<document>`. */
export const SOURCE_ANNOTATION = 'veer.io/source';

export const API_VERSION = 'veer.io/v1';

/** Like the API's NameSchema: what every one of the five kinds accepts as a name. */
export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const NAME_RULE = 'must be 1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit';

/** `kind/name` as kubectl prints it. */
export const ref = (kind: Kind, name: string): string => `${KIND_INFO[kind].word}/${name}`;
