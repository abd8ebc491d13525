import { strict as assert } from 'assert';
import { defaultConfig } from '../../../src/config/defaults';
import { activityPolicy } from '../../../src/config/policy';
import type { K0rdentConfig } from '../../../src/config/types';
import type { ActivityPolicy } from '../../../src/workflows/messages';

function configWith(change: (config: K0rdentConfig) => void): K0rdentConfig {
  const config = defaultConfig();
  change(config);
  return config;
}

const PROVISIONING_DEFAULTS: ActivityPolicy = {
  startToCloseSeconds: { local: 300, cloud: 1800, vms: 1200, host: 900, cluster: 3600 },
  heartbeatSeconds: 60,
  maxAttempts: 5,
  initialRetrySeconds: 5,
  maxRetrySeconds: 120,
  checkTimeoutSeconds: 120,
};

const QUICK: ActivityPolicy = {
  startToCloseSeconds: { local: 120, cloud: 300, vms: 120, host: 120, cluster: 120 },
  heartbeatSeconds: 10,
  maxAttempts: 3,
  initialRetrySeconds: 0.2,
  maxRetrySeconds: 1,
  checkTimeoutSeconds: 30,
};

describe('activity policy', () => {
  const cases: { name: string; config: K0rdentConfig; expected: ActivityPolicy }[] = [
    {
      name: 'provisioning with the default timeouts',
      config: defaultConfig(),
      expected: PROVISIONING_DEFAULTS,
    },
    {
      name: 'provisioning scaled by the VM and k0rdent waits',
      config: configWith((c) => {
        c.timeouts.vm_creation_minutes = 20;
        c.timeouts.k0rdent_install_wait = 4000;
      }),
      expected: {
        ...PROVISIONING_DEFAULTS,
        startToCloseSeconds: { ...PROVISIONING_DEFAULTS.startToCloseSeconds, vms: 1800, cluster: 4600 },
      },
    },
    {
      name: 'provisioning keeping an hour for cluster phases when k0rdent_install_wait is short',
      config: configWith((c) => (c.timeouts.k0rdent_install_wait = 60)),
      expected: PROVISIONING_DEFAULTS,
    },
    {
      name: 'provisioning with heartbeat and attempts overridden',
      config: configWith((c) => {
        c.orchestrator.heartbeat_seconds = 10;
        c.orchestrator.max_attempts = 2;
      }),
      expected: { ...PROVISIONING_DEFAULTS, heartbeatSeconds: 10, maxAttempts: 2 },
    },
    { name: 'quick', config: configWith((c) => (c.orchestrator.activity_preset = 'quick')), expected: QUICK },
    {
      name: 'quick, unaffected by the provisioning waits',
      config: configWith((c) => {
        c.orchestrator.activity_preset = 'quick';
        c.timeouts.k0rdent_install_wait = 9000;
      }),
      expected: QUICK,
    },
    {
      name: 'quick with heartbeat overridden only',
      config: configWith((c) => {
        c.orchestrator.activity_preset = 'quick';
        c.orchestrator.heartbeat_seconds = 7;
      }),
      expected: { ...QUICK, heartbeatSeconds: 7 },
    },
  ];
  for (const c of cases) {
    it(`resolves ${c.name}`, () => {
      assert.deepEqual(activityPolicy(c.config), c.expected);
    });
  }

  it('refuses a preset it does not know', () => {
    const config = defaultConfig();
    (config.orchestrator as { activity_preset: string }).activity_preset = 'toString';
    assert.throws(() => activityPolicy(config), /orchestrator\.activity_preset: unknown preset "toString"/);
  });
});
