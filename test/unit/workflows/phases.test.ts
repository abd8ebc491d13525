import assert from 'node:assert/strict';
import { PHASES, PHASE_NAMES, activityNames, isPhaseName, phaseEnabled } from '../../../src/workflows/phases';

describe('PHASES', () => {
  it('lists the eleven phases of the seeds in execution order', () => {
    assert.deepEqual(PHASE_NAMES, [
      'prepare_deployment',
      'setup_network',
      'create_vms',
      'setup_vpn',
      'connect_vpn',
      'install_k0s',
      'install_k0rdent',
      'setup_azure_children',
      'install_azure_csi',
      'install_kof_mothership',
      'install_kof_regional',
    ]);
  });

  it('ties each optional phase to its component and leaves the core ones unconditional', () => {
    const components = Object.fromEntries(
      PHASES.map((p) => [p.name, (p as { component?: string }).component ?? 'core'])
    );
    assert.deepEqual(components, {
      prepare_deployment: 'core',
      setup_network: 'core',
      create_vms: 'core',
      setup_vpn: 'core',
      connect_vpn: 'core',
      install_k0s: 'core',
      install_k0rdent: 'core',
      setup_azure_children: 'azure_children',
      install_azure_csi: 'kof',
      install_kof_mothership: 'kof',
      install_kof_regional: 'kof',
    });
  });

  const enablement: [string, { azureChildren: boolean; kof: boolean }, number][] = [
    ['no optional component', { azureChildren: false, kof: false }, 7],
    ['azure children only', { azureChildren: true, kof: false }, 8],
    ['everything', { azureChildren: true, kof: true }, 11],
  ];
  for (const [label, flags, count] of enablement) {
    it(`enables ${count} phases with ${label}`, () => {
      assert.equal(PHASES.filter((p) => phaseEnabled(p, flags)).length, count);
    });
  }

  it('names the check / apply / rollback activities after the phase', () => {
    assert.deepEqual(activityNames('install_k0s'), {
      check: 'checkInstallK0s',
      apply: 'installK0s',
      rollback: 'rollbackInstallK0s',
    });
  });

  it('recognises phase names and nothing else', () => {
    assert.equal(isPhaseName('create_vms'), true);
    assert.equal(isPhaseName('create-vms'), false);
    assert.equal(isPhaseName(undefined), false);
  });
});
