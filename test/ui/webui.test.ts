import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { DEPLOYMENT_WORKFLOW, SearchAttributeNames } from '../../src/workflows/messages';
import { PHASES } from '../../src/workflows/phases';
import { workflowListUrl } from '../../src/temporal/web-ui';
import { ROOT, runCli, startServer, stopFolderEmulator, stopProcess } from '../integration/harness';

/** Debian's Chromium; K0RDENT_CHROMIUM names another. */
const CHROMIUM = process.env.K0RDENT_CHROMIUM ?? '/usr/bin/chromium';

/** Where the suite leaves its screenshots. */
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'ui');

/** Chromium as root on a machine without outside network: no sandbox, no background connections. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The address after `Web UI:` in a command's output. */
function printedLink(output: string): string {
  const link = /^Web UI:\s+(http\S+)$/m.exec(output)?.[1];
  assert.ok(link, `no Web UI link in:\n${output}`);
  return link;
}

/** The visible text of the page and of its frames (the UI renders markdown in a frame of its own). */
async function visibleText(page: Page): Promise<string> {
  const parts = await Promise.all(page.frames().map((f) => f.innerText('body').catch(() => '')));
  return parts.join('\n');
}

/** Waits until the page's visible text matches `expected`, then returns that text. */
async function textShows(page: Page, expected: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await visibleText(page);
    if (expected.test(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`the page never showed ${expected}; it shows:\n${text}`);
}

describe('the Web UI as a person sees it', function () {
  this.timeout(300_000);
  let dir: string;
  let profile: string;
  let ui: string;
  let demoOutput: string;
  let id: string;
  let browser: BrowserContext;
  let page: Page;

  before(async function () {
    this.timeout(600_000);
    const server = await startServer();
    ui = `http://localhost:${server.uiPort}`;
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-ui-'));
    // The demo against this suite's dev server; its Web UI is named the way a production UI is.
    const demo = await runCli(['demo', '--dir', dir], dir, { K0RDENT_WEB_UI: ui });
    assert.equal(demo.code, 0, demo.output);
    demoOutput = demo.output;
    id = (await fs.readFile(path.join(dir, '.clusterid'), 'utf8')).trim();
    await fs.mkdir(SCREENSHOTS, { recursive: true });
    profile = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    // The demo's worker stays behind on purpose (it answers the page's queries); stop it now, and wait
    // for it and the folder's emulator to be gone, since both write into the folder until they exit.
    const pid = Number(await fs.readFile(path.join(dir, 'state', 'worker.pid'), 'utf8').catch(() => '0'));
    if (pid > 0) await stopProcess(pid, 'SIGTERM');
    await stopFolderEmulator(dir);
    await fs.rm(profile, { recursive: true, force: true });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('opens the link deploy, demo and status print on the deployment page, not a 400', async () => {
    const links = [...demoOutput.matchAll(/^Web UI:\s+(http\S+)$/gm)].map((m) => m[1]);
    const status = await runCli(['status', '--dir', dir], dir, { K0RDENT_WEB_UI: ui });
    assert.equal(status.code, 0, status.output);
    links.push(printedLink(status.output));
    assert.equal(links.length, 3, 'deploy, demo and status each print the link');
    assert.equal(new Set(links).size, 1, `one link: ${links.join(' ')}`);
    const link = links[0] ?? '';
    assert.match(link, new RegExp(`/namespaces/default/workflows/${id}/[0-9a-f-]{36}/history$`));
    await page.goto(link);
    const text = await textShows(page, new RegExp(`RUNNING[\\s\\S]*${id}[\\s\\S]*Event History`));
    assert.doesNotMatch(text, /technical difficulties|Bad Request|400/);
    assert.match(text, new RegExp(`Workflow Type\\s+${DEPLOYMENT_WORKFLOW}`));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'deployment-history.png') });
  });

  it('shows the summary and every phase with its status in the current details', async () => {
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const text = await textShows(page, /Current Details[\s\S]*install_kof_regional\s+completed/);
    // The summary's and the details' markdown each render in a frame of their own, after the headings.
    assert.match(text, /Summary[\s\S]*Current Details/);
    assert.match(text, new RegExp(`k0rdent ${id}: 1 controller\\(s\\) \\+ 1 worker\\(s\\) in westus2`));
    assert.match(text, new RegExp(`${id}: completed`));
    for (const phase of PHASES) assert.match(text, new RegExp(`${phase.name}\\s+completed\\s*\\d+s`));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'deployment.png') });
  });

  it('shows the deployment search attributes', async () => {
    await page.getByRole('tab', { name: 'Search Attributes' }).click();
    const text = await textShows(page, new RegExp(`"${SearchAttributeNames.status}": "completed"`));
    assert.match(text, new RegExp(`"${SearchAttributeNames.deploymentId}": "${id}"`));
    assert.match(text, new RegExp(`"${SearchAttributeNames.phase}": "install_kof_regional"`));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'search-attributes.png') });
  });

  it('lists deployments with DeploymentStatus and DeploymentPhase columns, filtered by them', async () => {
    const list = await runCli(['list', '--dir', dir], dir, { K0RDENT_WEB_UI: ui });
    assert.equal(list.code, 0, list.output);
    assert.match(list.output, new RegExp(`${id}\\s+RUNNING\\s+completed\\s+install_kof_regional`));
    // The columns a person adds with "Configure Workflows Table", kept in the browser per namespace.
    await page.goto(ui);
    const columns = [
      'Status',
      'Workflow ID',
      SearchAttributeNames.status,
      SearchAttributeNames.phase,
      'Type',
      'Start',
    ];
    const table = columns.map((label, i) => ({ label, pinned: i < 2 }));
    const stored = JSON.stringify(JSON.stringify({ default: table }));
    await page.evaluate(`localStorage.setItem('namespace-workflow-table-columns', ${stored})`);
    await page.goto(printedLink(list.output));
    const text = await textShows(page, new RegExp(`${id}\\s+completed\\s+install_kof_regional`));
    assert.match(text, /DeploymentStatus\s+DeploymentPhase/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'workflow-list.png') });

    const filtered = (status: string) =>
      workflowListUrl(
        ui,
        'default',
        `WorkflowType = '${DEPLOYMENT_WORKFLOW}' AND ${SearchAttributeNames.status} = '${status}' AND ${SearchAttributeNames.phase} = 'install_kof_regional'`
      );
    await page.goto(filtered('completed'));
    await textShows(page, new RegExp(`${id}\\s+completed\\s+install_kof_regional`));
    await page.goto(filtered('failed'));
    const none = await textShows(page, /No Workflows/i);
    assert.doesNotMatch(none, new RegExp(id));
  });
});
