/** `k0rdent-deploy demo`: dev server, Web UI, worker and a full deployment in the local world. */
import { spawn } from 'node:child_process';
import { openSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { LocalWorld } from '../local-world';
import { NO_LOCAL_WORLD } from '../local-world';
import { PACKAGE_ROOT } from '../temporal/dev-server';
import { UsageError, parse, workDirOf } from './args';
import { connect, ensureServer, pageLink, deploymentId } from './session';
import { deploy } from './deploy';

/** The demo: a full deployment on the local world's stand-in cloud, with a dev server and a worker. */
export async function demo(args: string[], world?: LocalWorld): Promise<number> {
  const v = parse(args, {});
  if (!world) throw new UsageError(`demo: ${NO_LOCAL_WORLD}`);
  const workDir = typeof v.dir === 'string' ? workDirOf(v.dir) : path.join(process.cwd(), '.demo');
  const stateDir = path.join(workDir, 'state');
  const configFile = path.join(PACKAGE_ROOT, 'config', 'examples', 'demo.yaml');
  // Bad connection settings are refused before the demo folder is made.
  await ensureServer(stateDir);
  await fs.mkdir(stateDir, { recursive: true });
  // Long-running operations and installs take a visible while, as Azure's do (much shorter, though).
  await world.startCloud(stateDir, { demo: true });
  const pidFile = path.join(stateDir, 'worker.pid');
  const oldPid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
  const alive =
    oldPid > 0 &&
    (() => {
      try {
        process.kill(oldPid, 0);
        return true;
      } catch {
        return false;
      }
    })();
  if (!alive) {
    const log = openSync(path.join(stateDir, 'worker.log'), 'a');
    const child = spawn(
      process.execPath,
      [path.join(PACKAGE_ROOT, 'bin', 'k0rdent-deploy'), 'worker', '--dir', workDir],
      {
        detached: true,
        stdio: ['ignore', log, log],
        env: process.env,
      }
    );
    child.unref();
    await fs.writeFile(pidFile, `${child.pid}\n`);
    console.log(`worker started (pid ${child.pid}, log ${path.join(stateDir, 'worker.log')})`);
  }
  const code = await deploy(
    [
      '--dir',
      workDir,
      '--config',
      configFile,
      '--with-kof',
      '--with-azure-children',
      '--cloud',
      'emulator',
      '--no-worker',
    ],
    world
  );
  const id = await deploymentId(workDir, undefined);
  const { client, uiUrl } = await connect(workDir);
  const link = await pageLink(client, uiUrl, client.workflow.getHandle(id));
  console.log(`
Web UI:      ${link ?? `(set K0RDENT_WEB_UI to the Web UI of ${process.env.TEMPORAL_ADDRESS} for a link)`}
state file:  ${path.join(stateDir, 'deployment-state.yaml')}
The deployment stays open. Try:
  node bin/k0rdent-deploy rollback --dir ${workDir} --to install_k0s
  temporal workflow signal --workflow-id ${id} --name rollback --input '{"toPhase":"install_k0s"}'
  node bin/k0rdent-deploy resume --dir ${workDir}
  node bin/k0rdent-deploy reset --dir ${workDir} --yes`);
  return code;
}
