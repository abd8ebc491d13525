/** `k0rdent-deploy list`: every deployment on the server. */
import { workflowListUrl } from '../temporal/web-ui';
import { DEPLOYMENT_WORKFLOW, SearchAttributeNames } from '../workflows/messages';
import { parse, workDirOf } from './args';
import { connect } from './session';

export async function list(args: string[]): Promise<number> {
  const v = parse(args, {});
  const { client, uiUrl } = await connect(workDirOf(v.dir));
  const query = `WorkflowType = '${DEPLOYMENT_WORKFLOW}'`;
  console.log(`${'deployment'.padEnd(18)} ${'workflow'.padEnd(11)} ${'status'.padEnd(13)} phase`);
  for await (const wf of client.workflow.list({ query })) {
    const attr = (name: string) => {
      const value = (wf.searchAttributes?.[name] as unknown[] | undefined)?.[0];
      return typeof value === 'string' ? value : '';
    };
    console.log(
      `${wf.workflowId.padEnd(18)} ${wf.status.name.padEnd(11)} ${attr(SearchAttributeNames.status).padEnd(13)} ${attr(SearchAttributeNames.phase)}`
    );
  }
  if (uiUrl) console.log(`Web UI: ${workflowListUrl(uiUrl, client.options.namespace, query)}`);
  return 0;
}
