import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Scope } from '@maestro/domain';
import { createGraph, type Graph } from '@maestro/graph';
import { createProducer, createRedis, type Producer } from '@maestro/queue';
import {
  createPendingRun,
  loadCompiledPolicy,
  loadServiceEnv,
  type PublishedManifest,
  publishManifest,
  uniqueName,
  uniqueTenantId,
  waitForRun,
} from '@maestro/testing';
import { type Job, Queue, Worker } from 'bullmq';
import { pino } from 'pino';
import { startWorkers } from '../apps/worker/src/workers.ts';
import { runChaos, spawnWorkerProcess } from '../apps/worker/test/chaos-harness.ts';
import { type Comparison, compare, type Stats } from './stats.ts';

const env = loadServiceEnv();

function summarise(name: string, samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  return {
    name,
    n: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
  };
}

const publish = (graph: Graph, scope: Scope, source: string) => publishManifest(graph, scope, source);

/** What startRun does after its policy decision: the run in the graph, then a wake-up job. */
async function startRun(graph: Graph, producer: Producer, scope: Scope, wf: PublishedManifest) {
  const runId = await createPendingRun(graph, scope, wf, {}, 'bench');
  await producer.enqueue('runAdvance', { ...scope, runId });
  return runId;
}

async function waitTerminal(graph: Graph, scope: Scope, runId: string, pollMs = 3): Promise<string> {
  return (await waitForRun(graph, scope, runId, { pollMs, timeoutMs: 600_000 })).status;
}

const chainManifest = (steps: number) =>
  `name: chain\nversion: 1.0.0\nsteps:\n${Array.from(
    { length: steps },
    (_, i) =>
      `  - id: s${i}\n    uses: core.echo\n${i > 0 ? `    needs: [s${i - 1}]\n` : ''}    with: { message: step ${i} }\n`,
  ).join('')}`;

export interface EngineBenchResult {
  rows: Comparison[];
  chain: { steps: number; p50Ms: number; perStepOverheadMs: number; ratioP50: number };
  starts: { runs: number; firstRunning: Stats; allStartedInMs: number };
  sustained: {
    seconds: number;
    steps: number;
    stepsPerSecond: number;
    rssMaxMB: number;
    rssEndMB: number;
    baselineStepsPerSecond: number;
  };
  resume: Stats;
  cores: number;
}

export async function benchEngine(): Promise<EngineBenchResult> {
  const rows: Comparison[] = [];
  const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
  const policy = await loadCompiledPolicy();
  const scope: Scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
  const prefix = uniqueName('bench-engine');
  const producer = createProducer({ url: env.REDIS_URL, prefix });
  const workers = startWorkers({
    redisUrl: env.REDIS_URL,
    queuePrefix: prefix,
    workerId: uniqueName('bench-worker'),
    concurrency: 8,
    logger: pino({ level: 'silent' }),
    engine: { graph, policy, tenants: [scope.tenantId], taskConcurrency: 32, tenantTaskLimit: 10_000 },
  });
  await workers.ready;

  // 1. 40-step chain vs a bare BullMQ chain.
  const STEPS = 40;
  const CHAINS = Number(process.env.BENCH_CHAINS ?? 15);
  const chain = await publish(graph, scope, chainManifest(STEPS));
  await waitTerminal(graph, scope, await startRun(graph, producer, scope, chain)); // warm-up
  const chainSamples: number[] = [];
  for (let i = 0; i < CHAINS; i++) {
    const t0 = performance.now();
    const status = await waitTerminal(graph, scope, await startRun(graph, producer, scope, chain));
    if (status !== 'SUCCEEDED') throw new Error(`chain ended ${status}`);
    chainSamples.push(performance.now() - t0);
  }
  const bareName = uniqueName('bench-bare-chain');
  const bare = new Queue(bareName, { connection: { url: env.REDIS_URL } });
  let done: (() => void) | null = null;
  const bareWorker = new Worker(
    bareName,
    async (job: Job<{ i: number }>) => {
      if (job.data.i + 1 < STEPS) await bare.add('step', { i: job.data.i + 1 }, { removeOnComplete: true });
      else done?.();
    },
    { connection: { url: env.REDIS_URL, maxRetriesPerRequest: null }, concurrency: 1 },
  );
  const bareChain = async () => {
    const finished = new Promise<void>((r) => {
      done = r;
    });
    await bare.add('step', { i: 0 }, { removeOnComplete: true });
    await finished;
  };
  await bareChain();
  const bareSamples: number[] = [];
  for (let i = 0; i < CHAINS; i++) {
    const t0 = performance.now();
    await bareChain();
    bareSamples.push(performance.now() - t0);
  }
  await bareWorker.close();
  await bare.obliterate({ force: true });
  await bare.close();
  const chainRow = compare(
    `engine: ${STEPS}-step core.echo chain, start -> SUCCEEDED`,
    summarise(`engine: ${STEPS}-step core.echo chain`, chainSamples),
    summarise(`bare BullMQ chain of ${STEPS} no-op jobs`, bareSamples),
    400,
  );
  rows.push(chainRow);

  // 2. 1,000 runs started at once: start -> first task RUNNING.
  const STARTS = Number(process.env.BENCH_STARTS ?? 1000);
  const one = await publish(
    graph,
    scope,
    'name: one\nversion: 1.0.0\nsteps:\n  - id: a\n    uses: core.echo\n    with: { message: hi }\n',
  );
  const started: { runId: string; at: number }[] = [];
  const s0 = performance.now();
  await Promise.all(
    Array.from({ length: STARTS }, async () => {
      const runId = await startRun(graph, producer, scope, one);
      started.push({ runId, at: Date.now() });
    }),
  );
  const allStartedInMs = performance.now() - s0;
  const firstRunning: number[] = [];
  for (const s of started) {
    await waitTerminal(graph, scope, s.runId, 20);
  }
  const startedAt = await graph.read(async (tx) => {
    const res = await tx.run(
      `UNWIND $ids AS id
       MATCH (t:Task {runId: id, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN id, min(t.startedAt) AS startedAt`,
      { ...scope, ids: started.map((s) => s.runId) },
    );
    return new Map(
      res.records.map((r) => [r.get('id') as string, new Date(r.get('startedAt').toString()).getTime()]),
    );
  });
  for (const s of started) firstRunning.push((startedAt.get(s.runId) ?? NaN) - s.at);
  // Baseline: the same number of bare BullMQ jobs added at once, add -> processing started.
  const bareStarts = new Queue(uniqueName('bench-bare-starts'), { connection: { url: env.REDIS_URL } });
  const startedJobs: number[] = [];
  const bareStartWorker = new Worker(
    bareStarts.name,
    async (job: Job<{ at: number }>) => {
      startedJobs.push(Date.now() - job.data.at);
    },
    { connection: { url: env.REDIS_URL, maxRetriesPerRequest: null }, concurrency: 32 },
  );
  await Promise.all(
    Array.from({ length: STARTS }, () => bareStarts.add('s', { at: Date.now() }, { removeOnComplete: true })),
  );
  while (startedJobs.length < STARTS) await new Promise((r) => setTimeout(r, 20));
  await bareStartWorker.close();
  await bareStarts.obliterate({ force: true });
  await bareStarts.close();
  const startsRow = compare(
    `engine: ${STARTS} runs started at once, start -> first task RUNNING`,
    summarise(`engine: ${STARTS} concurrent starts -> first task RUNNING`, firstRunning),
    summarise(`bare BullMQ: ${STARTS} jobs added at once -> processing`, startedJobs),
    100,
  );
  rows.push(startsRow);
  await workers.close();

  // 3. Sustained throughput of one worker *process*, with its memory.
  const sustained = await benchSustained(graph, policy !== null);

  // 4. Resume after kill -9 (the chaos harness measures restart -> first completion).
  const resumeRuns = Number(process.env.BENCH_RESUME_KILLS ?? 5);
  const chaos = await runChaos({ runs: 20, kills: resumeRuns, flush: false, timeoutMs: 180_000 });
  const resume = summarise('resume after kill -9: worker restart -> first task finished', chaos.resumeMs);

  await producer.close();
  await policy.close();
  await graph.close();
  return {
    rows,
    chain: {
      steps: STEPS,
      p50Ms: chainRow.subject.p50,
      perStepOverheadMs: chainRow.subject.p50 / STEPS,
      ratioP50: chainRow.ratioP50,
    },
    starts: { runs: STARTS, firstRunning: startsRow.subject, allStartedInMs },
    sustained,
    resume,
    cores: cpus().length,
  };
}

function rssMB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * One worker process (as deployed: `tsx apps/worker/src/main.ts`) fed with fan-out runs of
 * core.echo steps for BENCH_SUSTAIN_S seconds; steps/s = tasks SUCCEEDED in the window / seconds.
 * Baseline: bare BullMQ no-op jobs through one worker in this process, same concurrency.
 */
async function benchSustained(graph: Graph, _policy: boolean): Promise<EngineBenchResult['sustained']> {
  const seconds = Number(process.env.BENCH_SUSTAIN_S ?? 60);
  const scope: Scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
  const prefix = uniqueName('bench-sustain');
  const producer = createProducer({ url: env.REDIS_URL, prefix });
  const items = Array.from({ length: 50 }, (_, i) => i);
  const wf = await publish(
    graph,
    scope,
    `name: wide\nversion: 1.0.0\nparams:\n  items: { type: array, items: { type: integer }, default: ${JSON.stringify(items)} }\nsteps:\n  - id: fan\n    uses: core.echo\n    foreach: \${{ params.items }}\n    with: { message: "item \${{ item }}" }\n`,
  );
  const started = spawnWorkerProcess({
    redisUrl: env.REDIS_URL,
    queuePrefix: prefix,
    tenantId: scope.tenantId,
    env: {
      MAESTRO_TASK_CONCURRENCY: process.env.BENCH_TASK_CONCURRENCY ?? '32',
      MAESTRO_TENANT_TASK_LIMIT: '10000',
    },
  });
  const child = started.child;
  await started.ready;
  const count = async () =>
    graph.read(async (tx) => {
      const r = await tx.run(
        `MATCH (t:Task {tenantId: $tenantId}) WHERE t.status = 'SUCCEEDED' RETURN count(t) AS n`,
        { tenantId: scope.tenantId },
      );
      return Number(r.records[0]?.get('n') ?? 0);
    });
  // Keep enough work queued that the worker never idles.
  let stop = false;
  const feeder = (async () => {
    const inFlight = new Set<string>();
    while (!stop) {
      while (inFlight.size < 12 && !stop) {
        const id = await startRun(graph, producer, scope, wf);
        inFlight.add(id);
        void waitTerminal(graph, scope, id, 200).then(() => inFlight.delete(id));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await new Promise((r) => setTimeout(r, 3000)); // warm-up
  const before = await count();
  const rss: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    if (child.pid) rss.push(rssMB(child.pid));
  }
  const after = await count();
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await feeder;
  child.kill('SIGTERM');
  await once(child, 'exit').catch(() => {});
  await producer.close();
  // Baseline: bare BullMQ no-op jobs, one worker, same concurrency, for a tenth of the time.
  const bare = new Queue(uniqueName('bench-bare-sustain'), { connection: { url: env.REDIS_URL } });
  let processed = 0;
  const bareWorker = new Worker(
    bare.name,
    async () => {
      processed++;
    },
    {
      connection: createRedis({ url: env.REDIS_URL }),
      concurrency: Number(process.env.BENCH_TASK_CONCURRENCY ?? 32),
    },
  );
  const baseSeconds = Math.max(3, Math.round(seconds / 10));
  let feeding = true;
  const bareFeeder = (async () => {
    while (feeding) {
      const waiting = await bare.getWaitingCount();
      if (waiting < 2000)
        await bare.addBulk(
          Array.from({ length: 1000 }, () => ({ name: 'n', data: {}, opts: { removeOnComplete: true } })),
        );
      else await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  const b0 = processed;
  const bt0 = performance.now();
  await new Promise((r) => setTimeout(r, baseSeconds * 1000));
  const baselineStepsPerSecond = (processed - b0) / ((performance.now() - bt0) / 1000);
  feeding = false;
  await bareFeeder;
  await bareWorker.close();
  await bare.obliterate({ force: true });
  await bare.close();
  const finite = rss.filter(Number.isFinite);
  return {
    seconds: elapsed,
    steps: after - before,
    stepsPerSecond: (after - before) / elapsed,
    rssMaxMB: Math.max(...finite),
    rssEndMB: finite.at(-1) ?? NaN,
    baselineStepsPerSecond,
  };
}
