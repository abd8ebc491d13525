/**
 * Activity timeouts and retries, from a named preset plus the config's overrides. Pure code: the
 * client resolves the policy once and passes it in the workflow input.
 */
import type { ActivityPolicy } from '../workflows/messages';
import type { K0rdentConfig, OrchestratorConfig } from './types';

const PRESETS: Record<OrchestratorConfig['activity_preset'], (config: K0rdentConfig) => ActivityPolicy> = {
  // Waits as long as Azure and the installs need in the real world.
  provisioning: ({ timeouts }) => ({
    startToCloseSeconds: {
      local: 300,
      cloud: 1800,
      vms: timeouts.vm_creation_minutes * 60 + 600,
      host: 900,
      cluster: Math.max(3600, timeouts.k0rdent_install_wait + 600),
    },
    heartbeatSeconds: 60,
    maxAttempts: 5,
    initialRetrySeconds: 5,
    maxRetrySeconds: 120,
    checkTimeoutSeconds: 120,
  }),
  // Short everything, for tests and the local world: failures surface in seconds. setup_network (cloud)
  // waits for its RSA key, which on a loaded worker queues behind the other deployments' keys: with 100
  // started at once on two cores the last key came about 130 s after the start, so 120 s timed out
  // attempts the worker was still carrying on with.
  quick: () => ({
    startToCloseSeconds: { local: 120, cloud: 300, vms: 120, host: 120, cluster: 120 },
    heartbeatSeconds: 10,
    maxAttempts: 3,
    initialRetrySeconds: 0.2,
    maxRetrySeconds: 1,
    checkTimeoutSeconds: 30,
  }),
};

/** The activity policy of a config: its `orchestrator.activity_preset`, with heartbeat and attempts overridden when set. */
export function activityPolicy(config: K0rdentConfig): ActivityPolicy {
  const {
    activity_preset: preset,
    heartbeat_seconds: heartbeat,
    max_attempts: attempts,
  } = config.orchestrator;
  const build = Object.hasOwn(PRESETS, preset) ? PRESETS[preset] : undefined;
  if (build === undefined) {
    throw new Error(
      `orchestrator.activity_preset: unknown preset "${String(preset)}" (known: ${Object.keys(PRESETS).join(', ')})`
    );
  }
  const policy = build(config);
  return {
    ...policy,
    heartbeatSeconds: heartbeat ?? policy.heartbeatSeconds,
    maxAttempts: attempts ?? policy.maxAttempts,
  };
}
