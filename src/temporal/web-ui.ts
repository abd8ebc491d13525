/** Addresses of Temporal Web UI pages: a deployment's workflow page and the filtered workflow list. */

/** The Web UI of a server the CLI did not start: K0RDENT_WEB_UI (e.g. http://localhost:8080), if set. */
export function configuredWebUi(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.K0RDENT_WEB_UI?.trim();
  return url ? url.replace(/\/+$/, '') : undefined;
}

/** The page of one run of a workflow; the UI answers 400 without the run id, so it is always given. */
export function workflowPageUrl(ui: string, namespace: string, workflowId: string, runId: string): string {
  const parts = ['namespaces', namespace, 'workflows', workflowId, runId].map(encodeURIComponent);
  return `${ui}/${parts.join('/')}/history`;
}

/** The workflow list of a namespace filtered by a visibility query. */
export function workflowListUrl(ui: string, namespace: string, query: string): string {
  return `${ui}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
}
