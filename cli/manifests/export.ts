import { Document, isMap, isPair, isScalar } from 'yaml';
import type { Obj } from './api.ts';
import { comparable } from './diff-format.ts';
import { API_VERSION, KIND_INFO, type Kind } from './kinds.ts';

/** One exported object: its manifest and, for a workflow written to a directory, its script file. */
export interface ExportedObject {
  kind: Kind;
  name: string;
  /** Relative to the export directory: `workflows/<name>.yaml`. */
  path: string;
  yaml: string;
  script?: { path: string; text: string };
}

/** `shop-token` → `SHOP_TOKEN`: the variable an exported secret reference reads. */
export const envNameOf = (name: string): string => name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

/**
 * The manifest of a stored object (its GET answer). The spec is what the GET shows minus the
 * server's fields, labels and annotations beside it. The recorded `veer.io/source` annotation is
 * written back as it is: apply keeps an annotation the manifest names, so applying the export
 * finds every object unchanged (re-recording the export's own path would update them all), and
 * the object still says which file it first came from.
 * Deployments: `obj` is the name and the answer of GET /deployments/{name}/definition (the PUT
 * body, env and the current instance count included), not the GET answer, which shows only
 * `command` with its args joined and leaves out env, healthCheck and cwd.
 */
export function exportObject(kind: Kind, obj: Obj, options: { scriptFiles: boolean }): ExportedObject {
  const name = String(obj.name);
  const { labels, annotations, ...rest } = comparable(kind, obj) as Obj & { labels?: Obj; annotations?: Obj };
  const dir = KIND_INFO[kind].plural;
  let spec: Obj = rest;
  let script: ExportedObject['script'];
  const comments: Record<string, string> = {};
  if (kind === 'Secret') {
    spec = { valueFrom: { env: envNameOf(name) } };
    comments.valueFrom = ` the value is not exported: set $${envNameOf(name)} (or use valueFrom: { file: path }) before veer apply`;
  } else if (kind === 'Notifier') {
    if (obj.hasSecret === true) {
      const env = `${envNameOf(name)}_NOTIFIER_SECRET`;
      spec = { ...rest, secret: { valueFrom: { env } } };
      comments.secret = ` the signing secret is not exported: set $${env} before veer apply`;
    }
  } else if (kind === 'Workflow' && options.scriptFiles && typeof rest.script === 'string') {
    script = { path: `${dir}/${name}.ts`, text: rest.script };
    // Next to the manifest: a path is resolved relative to the manifest's directory.
    spec = { ...rest, script: `${name}.ts` };
  }
  const manifest: Obj = { apiVersion: API_VERSION, kind, name };
  if (labels && Object.keys(labels).length) manifest.labels = labels;
  if (annotations && Object.keys(annotations).length) manifest.annotations = annotations;
  manifest.spec = spec;
  const doc = new Document(manifest);
  const specNode = doc.get('spec', true);
  if (isMap(specNode))
    for (const item of specNode.items) {
      if (isPair(item) && isScalar(item.key) && comments[String(item.key.value)]) item.key.commentBefore = comments[String(item.key.value)];
    }
  return { kind, name, path: `${dir}/${name}.yaml`, yaml: doc.toString({ lineWidth: 0 }), ...(script ? { script } : {}) };
}
