import assert from 'node:assert/strict';
import { configuredWebUi, workflowListUrl, workflowPageUrl } from '../../../src/temporal/web-ui';

describe('Web UI links', () => {
  it('names the namespace and the run id in the workflow page link', () => {
    assert.equal(
      workflowPageUrl('http://localhost:8233', 'k0rdent-prod', 'k0rdent-abcd1234', '0193-run'),
      'http://localhost:8233/namespaces/k0rdent-prod/workflows/k0rdent-abcd1234/0193-run/history'
    );
  });

  it('escapes characters a path segment cannot hold', () => {
    assert.equal(
      workflowPageUrl('http://ui', 'a/b', 'w id', 'r?1'),
      'http://ui/namespaces/a%2Fb/workflows/w%20id/r%3F1/history'
    );
  });

  it('carries the visibility query of the list link as one parameter', () => {
    const url = new URL(workflowListUrl('http://ui:8080', 'default', "WorkflowType = 'deploymentWorkflow'"));
    assert.equal(url.pathname, '/namespaces/default/workflows');
    assert.equal(url.searchParams.get('query'), "WorkflowType = 'deploymentWorkflow'");
  });

  it('takes the Web UI of a named server from K0RDENT_WEB_UI, without a trailing slash', () => {
    assert.equal(configuredWebUi({ K0RDENT_WEB_UI: 'http://localhost:8080/' }), 'http://localhost:8080');
    assert.equal(configuredWebUi({ K0RDENT_WEB_UI: ' ' }), undefined);
    assert.equal(configuredWebUi({}), undefined);
  });
});
