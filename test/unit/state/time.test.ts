import assert from 'node:assert/strict';
import { archiveStamp, isIsoSeconds, isoSeconds, localTimestamp } from '../../../src/state/time';

describe('time formats', () => {
  const isoCases: [string, string][] = [
    ['2025-12-01T08:56:05.999Z', '2025-12-01T08:56:05Z'],
    ['2025-12-01T00:00:00+02:00', '2025-11-30T22:00:00Z'],
    ['1999-01-02T03:04:05Z', '1999-01-02T03:04:05Z'],
  ];
  for (const [input, expected] of isoCases) {
    it(`isoSeconds turns ${input} into ${expected}`, () => {
      assert.equal(isoSeconds(new Date(input)), expected);
    });
  }

  const shapeCases: [unknown, boolean][] = [
    ['2025-12-01T08:56:05Z', true],
    ['2025-12-01T08:56:05.123Z', false],
    ['2025-12-01 08:56:05 UTC', false],
    [42, false],
  ];
  for (const [value, expected] of shapeCases) {
    it(`isIsoSeconds says ${expected} for ${JSON.stringify(value)}`, () => {
      assert.equal(isIsoSeconds(value), expected);
    });
  }

  const localCases: [string, string, string, string][] = [
    ['2025-12-01T09:07:21Z', 'UTC', '2025-12-01 09:07:21 UTC', '2025-12-01_09-07-21'],
    ['2025-12-01T09:07:21Z', 'America/Los_Angeles', '2025-12-01 01:07:21 PST', '2025-12-01_01-07-21'],
    ['2025-07-01T00:30:00Z', 'America/New_York', '2025-06-30 20:30:00 EDT', '2025-06-30_20-30-00'],
    ['2025-03-09T10:00:00Z', 'America/Los_Angeles', '2025-03-09 03:00:00 PDT', '2025-03-09_03-00-00'],
  ];
  for (const [iso, zone, local, stamp] of localCases) {
    it(`localTimestamp and archiveStamp render ${iso} in ${zone} as ${local}`, () => {
      assert.equal(localTimestamp(new Date(iso), zone), local);
      assert.equal(archiveStamp(new Date(iso), zone), stamp);
    });
  }

  it('localTimestamp uses the process time zone by default, with a short zone name', () => {
    assert.match(localTimestamp(new Date('2025-12-01T09:07:21Z')), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/);
    assert.match(archiveStamp(new Date('2025-12-01T09:07:21Z')), /^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$/);
  });
});
