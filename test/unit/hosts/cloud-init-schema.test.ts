import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { defaultConfig } from '../../../src/config/defaults';
import { namesFor } from '../../../src/config/naming';
import type { HostPlan } from '../../../src/config/types';
import { ensureSshKeyPair, generateWireguardKeyPair } from '../../../src/hosts/keys';
import type { CloudInitInput } from '../../../src/hosts/wireguard-config';
import { renderCloudInit } from '../../../src/hosts/wireguard-config';

const CLOUD_INIT = '/usr/bin/cloud-init';

function requireTool(file: string, debianPackage: string): void {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: install the Debian package ${debianPackage}`);
  }
}

describe('cloud-init documents against the real cloud-init schema', () => {
  let dir: string;
  let sshPublicKey: string;
  const names = namesFor('k0rdent-q7m2xk4p', defaultConfig());
  const controller = names.hosts[0] as HostPlan;

  before(async () => {
    requireTool(CLOUD_INIT, 'cloud-init');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-cloud-init-'));
    ({ publicKey: sshPublicKey } = await ensureSshKeyPair(
      path.join(dir, 'ssh-key'),
      'k0rdent-k0rdent-q7m2xk4p'
    ));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** `cloud-init schema --config-file` on `text`: its exit code and everything it printed. */
  async function schemaCheck(name: string, text: string): Promise<{ code: number | null; output: string }> {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(file, text);
    const run = spawnSync(CLOUD_INIT, ['schema', '--config-file', file], { encoding: 'utf8' });
    if (run.error) throw run.error;
    return { code: run.status, output: run.stdout + run.stderr };
  }

  const input = (host: HostPlan): CloudInitInput => ({
    host,
    hostPrivateKey: generateWireguardKeyPair().privateKey,
    laptopPublicKey: generateWireguardKeyPair().publicKey,
    laptopIp: names.laptopWireguardIp,
    port: 51820,
    sshUsername: 'k0rdent',
  });

  for (const c of [
    { name: 'with the SSH user', withUser: true },
    { name: 'without the SSH user', withUser: false },
  ]) {
    it(`renders a valid #cloud-config ${c.name}, free of deprecated keys`, async () => {
      for (const host of names.hosts) {
        const text = renderCloudInit({ ...input(host), sshPublicKey: c.withUser ? sshPublicKey : undefined });
        assert.equal(text.includes('ssh_authorized_keys'), c.withUser);
        const { code, output } = await schemaCheck(`${host.name}-${c.withUser ? 'user' : 'plain'}`, text);
        assert.equal(code, 0, output);
        assert.match(output, /Valid cloud-config/);
        assert.doesNotMatch(output, /deprecat/i);
      }
    });
  }

  const broken: { name: string; breakIt: (doc: Record<string, unknown>) => void; error: RegExp }[] = [
    {
      name: 'an unknown write_files encoding',
      breakIt: (doc) => {
        const [first] = doc.write_files as Record<string, unknown>[];
        assert.ok(first);
        first.encoding = 'rot13';
      },
      error: /write_files\.0\.encoding/,
    },
    {
      name: 'packages given as a string',
      breakIt: (doc) => {
        doc.packages = 'wireguard';
      },
      error: /packages: 'wireguard' is not of type 'array'/,
    },
  ];
  for (const b of broken) {
    it(`rejects a document with ${b.name} (the check can fail)`, async () => {
      const doc = parse(renderCloudInit({ ...input(controller), sshPublicKey })) as Record<string, unknown>;
      b.breakIt(doc);
      const { code, output } = await schemaCheck(
        `broken-${broken.indexOf(b)}`,
        '#cloud-config\n' + stringify(doc)
      );
      assert.notEqual(code, 0, output);
      assert.match(output, b.error);
    });
  }
});
