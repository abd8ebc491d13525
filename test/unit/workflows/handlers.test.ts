import assert from 'node:assert/strict';
import {
  inputProblem,
  requestedComponents,
  resetPayloadProblem,
  resumeProblem,
  sanitizeReason,
} from '../../../src/workflows/handlers';
import type { DeploymentInput } from '../../../src/workflows/messages';
import { deploymentInput } from './fixtures';

describe('deployment workflow payload checks', () => {
  const inputs: [string, (i: DeploymentInput) => unknown, RegExp | undefined][] = [
    ['a complete input', (i) => i, undefined],
    ['no input', () => undefined, /input is missing/],
    ['an id of the wrong shape', (i) => ({ ...i, deploymentId: 'k0rdent-ABCD1234' }), /not of the form/],
    ['a relative folder', (i) => ({ ...i, workDir: 'deployments/x' }), /absolute path/],
    ['no config', (i) => ({ ...i, config: undefined }), /config is missing/],
    ['no policy', (i) => ({ ...i, policy: {} }), /policy is missing/],
    [
      'KOF without Azure children',
      (i) => ({ ...i, flags: { azureChildren: false, kof: true } }),
      /KOF needs/,
    ],
  ];
  for (const [label, make, expected] of inputs) {
    it(`${expected ? 'refuses' : 'accepts'} ${label} as workflow input`, () => {
      const why = inputProblem(make(deploymentInput()) as DeploymentInput);
      if (expected) assert.match(why ?? '', expected);
      else assert.equal(why, undefined);
    });
  }

  const reasons: [unknown, string][] = [
    ['release 1.2 / hotfix #7', 'release-1-2-hotfix-7'],
    ['../../etc/passwd', 'etc-passwd'],
    ['   ', 'full-reset'],
    ['日本語', 'full-reset'],
    [42, 'full-reset'],
    [undefined, 'full-reset'],
    ['x'.repeat(39) + '-y', 'x'.repeat(39)],
  ];
  for (const [reason, folder] of reasons) {
    it(`turns the reset reason ${JSON.stringify(reason)} into ${folder}`, () => {
      assert.equal(sanitizeReason(reason), folder);
    });
  }

  const payloads: [string, unknown, string | undefined, string | undefined][] = [
    ['no payload', undefined, undefined, undefined],
    ['null', null, undefined, undefined],
    ['an empty map', {}, undefined, undefined],
    ['a boolean resume', { resume: true }, undefined, undefined],
    ['a string resume', { resume: 'yes' }, 'resume must be true or false', undefined],
    ['a string', 'now', undefined, 'the payload must be a map { reason?: string }'],
    ['a list', ['a'], undefined, 'the payload must be a map { reason?: string }'],
  ];
  for (const [label, payload, resume, reset] of payloads) {
    it(`checks ${label} as a rollback's resume and as a reset payload`, () => {
      assert.equal(resumeProblem(payload), resume);
      assert.equal(resetPayloadProblem(payload), reset);
    });
  }

  const off = { azureChildren: false, kof: false };
  const components: [string, unknown, object][] = [
    [
      'turns KOF on with Azure children',
      { azureChildren: true, kof: true },
      { flags: { azureChildren: true, kof: true } },
    ],
    [
      'keeps what the payload leaves out',
      { azureChildren: true },
      { flags: { azureChildren: true, kof: false } },
    ],
    [
      'refuses KOF without Azure children',
      { kof: true },
      { problem: 'KOF needs the Azure child-cluster setup; enable azureChildren too' },
    ],
    ['refuses a flag that is not a boolean', { kof: 'on' }, { problem: 'kof must be true or false' }],
    [
      'refuses a payload that is not a map',
      [true],
      { problem: 'the payload must be a map { azureChildren?: true|false, kof?: true|false }' },
    ],
  ];
  for (const [label, payload, expected] of components) {
    it(`setComponents ${label}`, () => {
      assert.deepEqual(requestedComponents(off, payload), expected);
    });
  }
});
