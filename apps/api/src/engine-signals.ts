import type { Context } from './context.ts';

/**
 * Tells the workers a run needs looking at (start it, queue newly ready tasks). The graph
 * already holds the change, so a Redis outage only delays it: the worker's reconciler finds
 * PENDING and idle RUNNING runs on its own. Never fails the request.
 */
export async function wakeRun(ctx: Context, runId: string): Promise<void> {
  try {
    await ctx.resources.queue.enqueue('runAdvance', { ...ctx.scope, runId });
  } catch (error) {
    ctx.resources.logger.warn(
      { runId, err: (error as Error).message },
      'run wake-up not sent; reconciler will',
    );
  }
}

/** Stops the running steps of a cancelled run on every worker (they also notice on lease renewal). */
export async function signalCancel(ctx: Context, runId: string): Promise<void> {
  try {
    await ctx.resources.queue.signalCancel(runId);
  } catch (error) {
    ctx.resources.logger.warn(
      { runId, err: (error as Error).message },
      'cancel signal not sent; steps stop at lease renewal',
    );
  }
}
