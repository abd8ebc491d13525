import assert from 'node:assert/strict';
import { createActivities } from '../../../src/activities';
import { PHASE_NAMES, activityNames } from '../../../src/workflows/phases';

describe('createActivities', () => {
  it('registers a function under every name the workflow calls a phase verb by', () => {
    const activities = createActivities();
    for (const phase of PHASE_NAMES) {
      const names = activityNames(phase);
      for (const name of [names.check, names.apply, names.rollback]) {
        assert.equal(typeof activities[name], 'function', name);
      }
    }
  });
});
