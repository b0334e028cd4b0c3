import { describe, expect, it } from 'vitest';
import { fixturesReplaced } from '../workflow/history-fixtures';

const files = [
  'legacy-duplicate-rate.run0.json',
  'stale-client-rate-ignored.run0.json',
  'weekly-failed-paid-plan-switch.run0.json',
  'weekly-failed-paid-plan-switch.run1.json',
  'weekly-failed-paid-plan-switch-extra.run0.json',
  'notes.txt',
];

describe('which replay fixtures a recording replaces', () => {
  it('a full re-recording replaces every fixture, legacy ones too', () => {
    expect(fixturesReplaced(files, new Set())).toEqual(files.filter((f) => f.endsWith('.json')));
  });

  it('a named scenario replaces only its own runs; the other fixtures stay', () => {
    expect(fixturesReplaced(files, new Set(['weekly-failed-paid-plan-switch']))).toEqual([
      'weekly-failed-paid-plan-switch.run0.json',
      'weekly-failed-paid-plan-switch.run1.json',
    ]);
    expect(fixturesReplaced(files, new Set(['stale-client-rate-ignored']))).toEqual([
      'stale-client-rate-ignored.run0.json',
    ]);
  });
});
