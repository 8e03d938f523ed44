import { describe, expect, it } from 'vitest';
import { kindOfId, newId } from './ids.ts';

describe('entity ids', () => {
  it('round-trip their kind', () => {
    expect(kindOfId(newId('Run'))).toBe('Run');
    expect(kindOfId(newId('WorkflowVersion'))).toBe('WorkflowVersion');
    expect(newId('Task')).toMatch(/^task_[0-9a-f-]{36}$/);
  });

  it('reject anything that is not a well-formed id of a known kind', () => {
    for (const bad of [
      '',
      'run_',
      'run_123',
      'zzz_00000000-0000-4000-8000-000000000000',
      "run_' OR 1=1",
      'Run:1',
    ]) {
      expect(kindOfId(bad)).toBeNull();
    }
  });
});
