import { describe, expect, it } from 'vitest';
import { chaosViolations, runChaos } from './chaos-harness.ts';

// Default size keeps `npm test` quick; `npm run test:chaos` runs the ship gate at full size.
const RUNS = Number(process.env.CHAOS_RUNS ?? 20);
const KILLS = Number(process.env.CHAOS_KILLS ?? 3);
const TIMEOUT_MS = Number(process.env.CHAOS_TIMEOUT_MS ?? 120_000);

describe('kill-and-resume (worker process kill -9, Redis FLUSHALL)', () => {
  it(
    `${RUNS} runs of a 10-step fan-out/fan-in all succeed; no completed step runs twice`,
    async () => {
      const report = await runChaos({
        runs: RUNS,
        kills: KILLS,
        flush: true,
        timeoutMs: TIMEOUT_MS,
        log: (line) => console.log(`[chaos] ${line}`),
      });
      const repeats = report.requests.length - new Set(report.requests.map((r) => r.key)).size;
      console.log(
        `[chaos] ${report.runs.length} runs, ${report.tasks.length} tasks, ${report.requests.length} requests ` +
          `(${repeats} re-sent with the same key), ${report.kills} kills, flushed=${report.flushed}, ` +
          `resume after restart ms=${report.resumeMs.join(',')} (process start-up ms=${report.startupMs.join(',')}), ${report.elapsedMs} ms`,
      );
      expect(report.kills).toBe(KILLS);
      expect(report.flushed).toBe(true);
      expect(report.tasks).toHaveLength(RUNS * 10);
      expect(chaosViolations(report)).toEqual([]);
    },
    TIMEOUT_MS + 60_000,
  );
});
