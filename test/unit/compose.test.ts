import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { SearchAttributeNames } from '../../src/workflows/messages';
import { repoRoot } from './config/helpers';

interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string } | string;
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  entrypoint?: string[] | string;
  volumes?: string[];
  healthcheck?: { test?: string[] | string };
  ports?: string[];
}

const root = repoRoot();
const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

/** `name:1.2.3`, `name:1.2.3-bookworm-slim`; PostgreSQL numbers its releases `16.10`. */
function isExactTag(image: string): boolean {
  const match = /^([a-z0-9][a-z0-9._/-]*):([^:@]+)$/.exec(image);
  if (!match) {
    return false;
  }
  const [, name, tag] = match;
  if (tag === undefined || /latest|stable|edge/.test(tag)) {
    return false;
  }
  if (name === 'postgres') {
    return /^(1\d|[2-9]\d)\.\d+(-[a-z0-9.]+)?$/.test(tag);
  }
  return /^v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/.test(tag);
}

function service(name: string): Service {
  const found = compose.services[name];
  assert.ok(found, `service ${name} is missing`);
  return found;
}

function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  assert.ok(!Array.isArray(env), `${name}: environment is written as a map`);
  return env;
}

function mountedScript(name: string): string {
  const volume = (service(name).volumes ?? []).find((v) => v.startsWith('./deploy/'));
  assert.ok(volume, `${name} mounts a script from deploy/`);
  const [host, inside] = volume.split(':');
  assert.ok(host && inside);
  const entrypoint = service(name).entrypoint;
  assert.ok(Array.isArray(entrypoint) && entrypoint.includes(inside), `${name} runs ${inside}`);
  const file = path.join(root, host);
  assert.ok(existsSync(file), `${host} exists`);
  const check = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, `sh -n ${host}: ${check.stderr}`);
  return readFileSync(file, 'utf8');
}

describe('docker-compose.yml', () => {
  it('defines the production services', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'postgresql',
      'temporal',
      'temporal-admin-tools',
      'temporal-namespace-setup',
      'temporal-ui',
      'worker',
    ]);
  });

  const tags: [string, boolean][] = [
    ['postgres:16.10', true],
    ['temporalio/server:1.31.2', true],
    ['node:20.20.2-bookworm-slim', true],
    ['postgres:16', false],
    ['postgres:latest', false],
    ['postgres', false],
    ['temporalio/server:1.31', false],
    ['temporalio/server:latest', false],
    ['node:20-bookworm-slim', false],
    ['node:lts', false],
  ];
  for (const [image, exact] of tags) {
    it(`judges ${image} ${exact ? 'exact' : 'floating'}`, () => {
      assert.equal(isExactTag(image), exact);
    });
  }

  it('pins every image to an exact version', () => {
    const images = Object.entries(compose.services).map(([name, s]) => {
      assert.ok(s.image, `${name} names its image`);
      assert.ok(isExactTag(s.image), `${name}: ${s.image} is not an exact version`);
      return s.image;
    });
    assert.deepEqual([...new Set(images)].sort(), [
      'k0rdent-deploy:0.1.0',
      'postgres:16.10',
      'temporalio/admin-tools:1.31.2',
      'temporalio/server:1.31.2',
      'temporalio/ui:2.52.0',
    ]);
  });

  it('writes no secret: every password comes from a required variable', () => {
    let seen = 0;
    for (const name of Object.keys(compose.services)) {
      for (const [key, value] of Object.entries(environment(name))) {
        if (/pass|pwd|secret|token/i.test(key)) {
          seen++;
          assert.match(
            String(value),
            /^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/,
            `${name}.${key} must be interpolated`
          );
        }
      }
    }
    assert.equal(seen, 3, 'postgresql, the schema setup and the server each get the password');
    assert.doesNotMatch(composeText, /^\s*-?\s*[A-Z_]*(PASSWORD|PWD|SECRET)[A-Z_]*[:=]\s*(?!\$\{)\S/im);
  });

  it('sets up both databases with temporal-sql-tool before the server starts', () => {
    const script = mountedScript('temporal-admin-tools');
    const env = environment('temporal-admin-tools');
    assert.equal(env.DBNAME, 'temporal');
    assert.equal(env.VISIBILITY_DBNAME, 'temporal_visibility');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.match(script, /temporal-sql-tool --plugin postgres12/);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) {
      assert.ok(script.includes(`--db "$database" ${step}`), `the script runs ${step}`);
    }
    assert.match(script, /setup_database "\$\{DBNAME:-temporal\}" "\$SCHEMA_ROOT\/temporal\/versioned"/);
    assert.match(
      script,
      /setup_database "\$\{VISIBILITY_DBNAME:-temporal_visibility\}" "\$SCHEMA_ROOT\/visibility\/versioned"/
    );
    assert.deepEqual(service('temporal-admin-tools').depends_on, {
      postgresql: { condition: 'service_healthy' },
    });
  });

  it('starts the server on PostgreSQL once the schema is in place', () => {
    const temporal = service('temporal');
    assert.deepEqual(temporal.depends_on, {
      'temporal-admin-tools': { condition: 'service_completed_successfully' },
    });
    const env = environment('temporal');
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.equal(env.DBNAME, 'temporal');
    assert.equal(env.VISIBILITY_DBNAME, 'temporal_visibility');
    assert.ok(temporal.healthcheck?.test, 'the server has a health check');
    const dynamic = env.DYNAMIC_CONFIG_FILE_PATH;
    assert.ok(dynamic);
    const mount = (temporal.volumes ?? []).find((v) => dynamic.startsWith(v.split(':')[1] ?? '-'));
    assert.ok(mount, 'the dynamic config file is mounted');
    const hostFile = path.join(root, mount.split(':')[0] ?? '', path.basename(dynamic));
    assert.ok(existsSync(hostFile), `${hostFile} exists`);
    assert.equal(typeof parse(readFileSync(hostFile, 'utf8')), 'object');
  });

  it('creates the namespace and registers the search attributes as Keyword', () => {
    const script = mountedScript('temporal-namespace-setup');
    assert.deepEqual(service('temporal-namespace-setup').depends_on, {
      temporal: { condition: 'service_healthy' },
    });
    assert.match(script, /temporal operator namespace create/);
    assert.match(
      script,
      /temporal operator search-attribute create [^\n]*\\\n\s+--name "\$name" --type Keyword/
    );
    const listed = /SEARCH_ATTRIBUTES="([^"]+)"/.exec(script)?.[1]?.split(' ');
    assert.deepEqual(listed?.sort(), Object.values(SearchAttributeNames).sort());
  });

  it('points the UI at the server', () => {
    assert.equal(environment('temporal-ui').TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('builds the worker from the Dockerfile and gives it the server and the deployment folder', () => {
    const worker = service('worker');
    assert.deepEqual(worker.build, { context: '.', dockerfile: 'Dockerfile' });
    assert.equal(environment('worker').TEMPORAL_ADDRESS, 'temporal:7233');
    assert.deepEqual(worker.depends_on, {
      'temporal-namespace-setup': { condition: 'service_completed_successfully' },
    });
    const folder = '${K0RDENT_WORK_DIR:-/var/lib/k0rdent-deploy}';
    assert.deepEqual(worker.volumes, [`${folder}:${folder}`]);
  });

  it('publishes ports on the loopback interface only', () => {
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    assert.deepEqual(ports.sort(), ['127.0.0.1:7233:7233', '127.0.0.1:8080:8080']);
  });

  it('validates with docker-compose, and refuses to start without POSTGRES_PASSWORD', () => {
    const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
    assert.equal(
      which.status,
      0,
      'docker-compose is not on PATH: install it (Debian: apt-get install -y docker-compose) to validate docker-compose.yml'
    );
    const env: NodeJS.ProcessEnv = { ...process.env, POSTGRES_PASSWORD: 'only-for-this-test' };
    const ok = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(ok.status, 0, `docker-compose config failed:\n${ok.stderr}`);
    delete env.POSTGRES_PASSWORD;
    const refused = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /set POSTGRES_PASSWORD in the environment or in \.env/);
  });
});

describe('Dockerfile', () => {
  it('builds on an exact Node 20 image', () => {
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] ?? '');
    assert.ok(bases.length > 0);
    for (const base of bases) {
      assert.ok(isExactTag(base), `${base} is not an exact version`);
      assert.match(base, /^node:20\./);
    }
  });

  it('installs with npm ci, builds the product alone, and runs the worker', () => {
    assert.match(dockerfile, /^RUN npm ci\b/m);
    assert.match(dockerfile, /^RUN npx tsc -p src && node dist\/src\/bundle\.js\b/m);
    assert.doesNotMatch(dockerfile, /^COPY (emulator\/src|test|bench)\b/m);
    assert.match(dockerfile, /^CMD \["node", "bin\/k0rdent-deploy", "worker"\]$/m);
    assert.match(dockerfile, /^USER node$/m);
  });

  it('keeps local build output and deployment state out of the build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', '.demo', 'state']) {
      assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
    }
  });
});
