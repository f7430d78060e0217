import { createKubernetesModel, type KubernetesModel, type KubernetesModelOptions } from './kubernetes.ts';
import { startHttpDouble, type HttpDouble } from './http-double.ts';

/**
 * A protocol double of Rancher 2.x's Kubernetes proxy: `/k8s/clusters/<clusterId>/<k8s path>`
 * forwards to the cluster's API (the Kubernetes double's model) after checking the Rancher
 * API token sent as `Authorization: Bearer <token>`. Unknown clusters get Rancher's 404,
 * missing or wrong tokens Rancher's 401 body. Tokens with role 'read' get Kubernetes' 403 on writes.
 */
export interface RancherDouble extends HttpDouble {
  model: KubernetesModel;
}

export async function startRancherDouble(
  options: { clusterId: string; tokens: Record<string, 'admin' | 'read'> } & Pick<KubernetesModelOptions, 'stepMs'>,
): Promise<RancherDouble> {
  // The downstream cluster trusts Rancher's impersonation; roles are enforced per token here.
  const model = createKubernetesModel({
    stepMs: options.stepMs,
    tokens: Object.fromEntries(Object.entries(options.tokens).map(([t, r]) => [`impersonated:${t}`, r])),
  });
  const http = await startHttpDouble(
    (req) => {
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!options.tokens[token]) return { status: 401, body: { type: 'error', status: '401', message: 'must authenticate' } };
      const m = /^\/k8s\/clusters\/([^/]+)(\/.*)$/.exec(req.path);
      if (!m) return { status: 404, body: { type: 'error', status: '404', message: 'not found' } };
      if (m[1] !== options.clusterId)
        return { status: 404, body: { type: 'error', status: '404', code: 'NotFound', message: `clusters.management.cattle.io "${m[1]}" not found` } };
      return model.handle({ ...req, path: m[2], headers: { ...req.headers, authorization: `Bearer impersonated:${token}` } });
    },
    () => model.stop(),
  );
  return Object.assign(http, { model });
}
