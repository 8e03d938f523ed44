import type { TimelineEventRecord } from '@maestro/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './test-engine.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine({ tenantTaskLimit: 2, taskConcurrency: 8 });
});
afterAll(async () => {
  await engine?.close();
});

/** Most tasks of the run RUNNING at once, walking its timeline in order. */
function peakRunning(timeline: TimelineEventRecord[]): number {
  const running = new Set<string>();
  let peak = 0;
  for (const e of timeline) {
    if (e.type !== 'task.status' && e.type !== 'task.retry') continue;
    if (e.to === 'RUNNING') running.add(e.subjectId);
    else running.delete(e.subjectId);
    peak = Math.max(peak, running.size);
  }
  return peak;
}

describe('fair dispatch', () => {
  it("caps a tenant's running tasks and lets another tenant through during its burst", async () => {
    const burst = await engine.start(`
name: burst
version: 1.0.0
params:
  items: { type: array, items: { type: integer }, default: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20] }
steps:
  - id: work
    uses: core.sleep
    foreach: \${{ params.items }}
    with: { ms: 150 }
`);
    await engine.waitForRun(burst, { until: (r) => r.status === 'RUNNING' });
    const small = await engine.start(
      `
name: small
version: 1.0.0
steps:
  - id: a
    uses: core.echo
    with: { message: a }
  - id: b
    uses: core.echo
    needs: [a]
    with: { message: b }
`,
      {},
      { scope: engine.otherScope },
    );
    const smallRun = await engine.waitForRun(small, { scope: engine.otherScope });
    expect(smallRun.status).toBe('SUCCEEDED');
    // The other tenant finished while the burst (20 x 150 ms, 2 at a time: >= 1.5 s) was still going.
    const burstTasks = await engine.tasks(burst);
    expect(burstTasks.filter((t) => t.status !== 'SUCCEEDED').length).toBeGreaterThan(0);
    const burstRun = await engine.waitForRun(burst, { timeoutMs: 30_000 });
    expect(burstRun.status).toBe('SUCCEEDED');
    expect(peakRunning(await engine.timeline(burst))).toBe(2);
    expect((await engine.tasks(burst)).every((t) => t.status === 'SUCCEEDED')).toBe(true);
  });
});
