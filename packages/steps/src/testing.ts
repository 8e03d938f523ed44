import type { StepContext } from './step-type.ts';

/**
 * A StepContext for tests: a fresh signal, attempt 1, a deadline a minute away and a guard that
 * allows everything. Override what the test is about.
 */
export function testStepContext(overrides: Partial<StepContext> = {}): StepContext {
  return {
    signal: new AbortController().signal,
    idempotencyKey: 'idem-test-key',
    attempt: 1,
    runId: 'run_test',
    taskId: 'task_test',
    tenantId: 'ten_test',
    environment: 'test',
    region: 'local',
    deadline: Date.now() + 60_000,
    guard: { checkEgress: async () => {}, checkModel: async () => {} },
    ...overrides,
  };
}
