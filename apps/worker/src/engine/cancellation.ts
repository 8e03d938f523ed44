import type { Redis } from '@maestro/queue';
import { CANCEL_CHANNEL } from '@maestro/queue';

/**
 * The AbortControllers of the steps this process is running, by run. A cancel message aborts
 * every step of that run; executors also notice a lost claim on their next lease renewal, so
 * a missed message only delays the stop.
 */
export interface RunningSteps {
  register(runId: string, controller: AbortController): () => void;
  abortRun(runId: string, reason: unknown): number;
  abortAll(reason: unknown): number;
  readonly size: number;
  close(): Promise<void>;
}

export function runningSteps(subscriber: Redis | null): RunningSteps {
  const byRun = new Map<string, Set<AbortController>>();
  let size = 0;
  const abortRun = (runId: string, reason: unknown) => {
    const set = byRun.get(runId);
    if (!set) return 0;
    for (const c of set) c.abort(reason);
    return set.size;
  };
  if (subscriber) {
    subscriber.on('message', (channel: string, runId: string) => {
      if (channel === CANCEL_CHANNEL) abortRun(runId, new Error('run cancelled'));
    });
    subscriber.subscribe(CANCEL_CHANNEL).catch(() => {});
  }
  return {
    register(runId, controller) {
      const set = byRun.get(runId) ?? new Set();
      set.add(controller);
      byRun.set(runId, set);
      size++;
      return () => {
        if (set.delete(controller)) size--;
        if (set.size === 0) byRun.delete(runId);
      };
    },
    abortRun,
    abortAll(reason) {
      let n = 0;
      for (const runId of byRun.keys()) n += abortRun(runId, reason);
      return n;
    },
    get size() {
      return size;
    },
    async close() {
      if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
