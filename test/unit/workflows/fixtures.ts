/** A deployment's input and states in given phase statuses, for the workflow modules' unit tests. */
import { emulatorTarget } from '../../../src/azure/target';
import { DEFAULT_CONFIG } from '../../../src/config/defaults';
import { activityPolicy } from '../../../src/config/policy';
import type {
  DeploymentFlags,
  DeploymentInput,
  DeploymentState,
  PhaseStatus,
} from '../../../src/workflows/messages';
import type { PhaseName } from '../../../src/workflows/phases';
import { initialState } from '../../../src/workflows/state';

/** The time the fixtures' states were made at. */
export const NOW = '2026-01-02T03:04:05Z';

/** A valid workflow input without optional components. */
export function deploymentInput(): DeploymentInput {
  return {
    deploymentId: 'k0rdent-abcd1234',
    workDir: '/tmp/x',
    configFile: 'config/k0rdent.yaml',
    config: structuredClone(DEFAULT_CONFIG),
    flags: { azureChildren: false, kof: false },
    deployer: 'alice@example.com',
    policy: activityPolicy(DEFAULT_CONFIG),
    cloud: emulatorTarget('https://127.0.0.1:1', '/nonexistent-ca.pem'),
  };
}

/** A new deployment's state with the given phase statuses (the rest pending) and components. */
export function stateWith(
  statuses: Partial<Record<PhaseName, PhaseStatus>>,
  flags: DeploymentFlags = { azureChildren: false, kof: false }
): DeploymentState {
  const state = initialState({ ...deploymentInput(), flags }, NOW);
  for (const [name, status] of Object.entries(statuses)) state.phases[name as PhaseName].status = status;
  return state;
}
