/** install_azure_csi: the Azure disk CSI driver and its default storage class on the management cluster. */
import type { PhaseFactory } from './phase';
import { event } from './phase';
import { worldPhase } from './world-phase';

/** The install_azure_csi phase. */
export const installAzureCsiPhase: PhaseFactory = (deps) =>
  worldPhase(deps, {
    resources: () => [
      { kind: 'csiDriver', name: 'disk.csi.azure.com', props: { version: 'v1.30.0' } },
      { kind: 'storageClass', name: 'managed-csi', props: { default: true, sku: 'StandardSSD_ZRS' } },
    ],
    applied: () => ({
      patch: { values: { azure_csi_installed: true } },
      events: [
        event('azure_csi_installed', 'Azure disk CSI driver installed with storage class managed-csi'),
      ],
    }),
    removed: () => ({
      patch: { values: { azure_csi_installed: false } },
      events: [event('azure_csi_uninstalled', 'Azure disk CSI driver removed')],
    }),
  });
