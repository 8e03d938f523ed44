import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { digestOf, type Scope } from '@maestro/domain';
import { createGraph, type Graph, getRuns, getTasksForRuns, type TaskRecord } from '@maestro/graph';
import { createProducer, createRedis, type Producer } from '@maestro/queue';
import {
  createPendingRun,
  loadServiceEnv,
  publishManifest,
  REPO_ROOT,
  uniqueName,
  uniqueTenantId,
} from '@maestro/testing';

/**
 * Kill-and-resume harness (seed 001 ship gate): runs of a 10-step fan-out/fan-in workflow whose
 * steps call a loopback HTTP counter, while the worker *process* is `kill -9`ed at random
 * moments and restarted, and Redis is flushed mid-flight. A private redis-server keeps the
 * FLUSHALL away from everything else on the machine.
 */

export interface ChaosOptions {
  runs: number;
  kills: number;
  /** FLUSHALL the private Redis once, mid-flight. */
  flush: boolean;
  /** Give up after this long. */
  timeoutMs: number;
  log?: (line: string) => void;
}

export interface CounterRequest {
  key: string | undefined;
  run: number;
  step: string;
  item: number | null;
  at: number;
}

export interface ChaosReport {
  runs: { id: string; status: string }[];
  tasks: TaskRecord[];
  requests: CounterRequest[];
  kills: number;
  flushed: boolean;
  restarts: number;
  /** ms from each restart (process spawned) to the first task completion after it. */
  resumeMs: number[];
  /** ms from each restart to the worker logging "worker ready" (process start-up). */
  startupMs: number[];
  elapsedMs: number;
}

const MANIFEST = `
name: chaos
version: 1.0.0
params:
  n: { type: integer }
  items: { type: array, items: { type: integer }, default: [0, 1, 2, 3, 4, 5, 6, 7] }
steps:
  - id: plan
    uses: http.request
    with: { method: POST, url: "COUNTER/step", body: { run: "\${{ params.n }}", step: plan } }
  - id: build
    uses: http.request
    needs: [plan]
    foreach: \${{ params.items }}
    with: { method: POST, url: "COUNTER/step", body: { run: "\${{ params.n }}", step: build, item: "\${{ item }}" } }
  - id: ship
    uses: http.request
    needs: [build]
    with: { method: POST, url: "COUNTER/step", body: { run: "\${{ params.n }}", step: ship } }
`;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = createRedis({ url }, 'producer');
  probe.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await probe.ping();
      break;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  return {
    url,
    async stop() {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => {});
    },
  };
}

/** The loopback counter: records every request with its Idempotency-Key, answers 200. */
async function startCounter(): Promise<{ url: string; requests: CounterRequest[]; server: Server }> {
  const requests: CounterRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      requests.push({
        key: req.headers['idempotency-key'] as string | undefined,
        run: Number(body.run),
        step: String(body.step),
        item: body.item === undefined ? null : Number(body.item),
        at: Date.now(),
      });
      // A little latency, as a real service has, keeps steps in flight when the worker dies.
      setTimeout(
        () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true }));
        },
        20 + Math.random() * 80,
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, server };
}

/**
 * A worker *process* as deployed (`node --import tsx apps/worker/src/main.ts`) on the given Redis
 * and queue prefix, serving one tenant; `ready` resolves when it logs "worker ready".
 */
export function spawnWorkerProcess(options: {
  redisUrl: string;
  queuePrefix: string;
  tenantId: string;
  env?: Record<string, string>;
  log?: (line: string) => void;
}): { child: ChildProcess; ready: Promise<void> } {
  const env = loadServiceEnv();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'apps/worker/src/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      REDIS_URL: options.redisUrl,
      NEO4J_URI: env.NEO4J_URI,
      NEO4J_USER: env.NEO4J_USER,
      NEO4J_PASSWORD: env.NEO4J_PASSWORD,
      DATABASE_URL: env.DATABASE_URL,
      MAESTRO_QUEUE_PREFIX: options.queuePrefix,
      MAESTRO_WORKER_TENANTS: options.tenantId,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker ready')) resolve();
      if (out.length > 100_000) out = out.slice(-10_000);
    });
    child.stderr?.on('data', (d: Buffer) => options.log?.(`worker stderr: ${d.toString().trim()}`));
    child.once('exit', (code) =>
      reject(new Error(`worker exited (${code}) before ready: ${out.slice(-500)}`)),
    );
  });
  return { child, ready };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const env = loadServiceEnv();
  const redis = await startRedis();
  const counter = await startCounter();
  const graph: Graph = createGraph({
    uri: env.NEO4J_URI,
    user: env.NEO4J_USER,
    password: env.NEO4J_PASSWORD,
  });
  const prefix = uniqueName('chaos');
  const producer: Producer = createProducer({ url: redis.url, prefix });
  const scope: Scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
  const workerId = uniqueName('chaos-worker');
  const started = Date.now();
  let worker: ChildProcess | null = null;
  let restarts = 0;
  const restartTimes: number[] = [];
  const startupMs: number[] = [];

  const spawnWorker = async () => {
    const spawnedAt = Date.now();
    restartTimes.push(spawnedAt);
    const started = spawnWorkerProcess({
      redisUrl: redis.url,
      queuePrefix: prefix,
      tenantId: scope.tenantId,
      env: {
        MAESTRO_WORKER_ID: workerId,
        MAESTRO_TASK_CONCURRENCY: '16',
        MAESTRO_TENANT_TASK_LIMIT: '16',
        MAESTRO_LEASE_MS: '3000',
        MAESTRO_RECONCILE_MS: '1000',
        MAESTRO_POLICY_DEADLINE_MS: '2000',
      },
      log,
    });
    worker = started.child;
    await started.ready;
    startupMs.push(Date.now() - spawnedAt);
  };

  try {
    const wf = await publishManifest(graph, scope, MANIFEST.replaceAll('COUNTER', counter.url));
    await spawnWorker();
    const runIds: string[] = [];
    const startRuns = async (count: number) => {
      for (let i = 0; i < count && runIds.length < options.runs; i++) {
        const runId = await createPendingRun(graph, scope, wf, { n: runIds.length });
        // A lost wake-up (Redis flushed right after) is the reconciler's to find.
        await producer.enqueue('runAdvance', { ...scope, runId }).catch(() => {});
        runIds.push(runId);
      }
    };
    // Runs start in waves, one before each disruption, so there is always work in flight when
    // the worker is killed or Redis is flushed.
    const disruptions = options.kills + (options.flush ? 1 : 0);
    const wave = Math.ceil(options.runs / (disruptions + 1));
    let kills = 0;
    let flushed = false;
    const expectedTasks = options.runs * 10;
    while (kills < options.kills || (options.flush && !flushed)) {
      await startRuns(wave);
      // A random moment while that wave is in flight.
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 600));
      if (options.flush && !flushed && kills >= Math.floor(options.kills / 2)) {
        const admin = createRedis({ url: redis.url }, 'producer');
        await admin.flushall();
        admin.disconnect();
        flushed = true;
        log(`FLUSHALL at ${counter.requests.length}/${expectedTasks} requests`);
        continue;
      }
      const victim = worker as ChildProcess | null;
      if (victim?.pid) {
        victim.kill('SIGKILL');
        await once(victim, 'exit').catch(() => {});
        kills++;
        log(`kill -9 #${kills} at ${counter.requests.length}/${expectedTasks} requests`);
        await spawnWorker();
        restarts++;
      }
    }
    await startRuns(options.runs);
    log(`started ${runIds.length} runs (${digestOf(runIds).slice(0, 8)})`);
    const allDone = async () => {
      const runs = await getRuns(graph, scope, runIds);
      return runs.every((r) => ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED'].includes(r.status));
    };
    const deadline = started + options.timeoutMs;
    while (!(await allDone())) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const runs = await getRuns(graph, scope, runIds);
    const tasks = [...(await getTasksForRuns(graph, scope, runIds)).values()].flat();
    const finishes = tasks.map((t) => Date.parse(t.finishedAt ?? '')).filter(Number.isFinite);
    const resumeMs = restartTimes.slice(1).map((t) => {
      const first = Math.min(...finishes.filter((f) => f >= t));
      return Number.isFinite(first) ? first - t : Number.NaN;
    });
    return {
      runs: runs.map((r) => ({ id: r.id, status: r.status })),
      tasks,
      requests: [...counter.requests],
      kills,
      flushed,
      restarts,
      resumeMs,
      startupMs: startupMs.slice(1),
      elapsedMs: Date.now() - started,
    };
  } finally {
    const last = worker as ChildProcess | null;
    if (last?.pid && last.exitCode === null) {
      last.kill('SIGKILL');
      await once(last, 'exit').catch(() => {});
    }
    await producer.close().catch(() => {});
    await redis.stop();
    await new Promise((r) => counter.server.close(r));
    await graph.close();
  }
}

/** Violations of the ship gate in a report; empty when it holds. */
export function chaosViolations(report: ChaosReport): string[] {
  const problems: string[] = [];
  for (const r of report.runs) if (r.status !== 'SUCCEEDED') problems.push(`run ${r.id} ended ${r.status}`);
  const byKey = new Map(report.tasks.map((t) => [t.idempotencyKey, t]));
  if (byKey.size !== report.tasks.length) problems.push('two tasks share an idempotency key');
  for (const req of report.requests) {
    if (!req.key) {
      problems.push(`a request for run ${req.run} ${req.step} carried no Idempotency-Key`);
      continue;
    }
    const task = byKey.get(req.key);
    if (!task) {
      problems.push(`a request carried an unknown key ${req.key}`);
      continue;
    }
    const finished = Date.parse(task.finishedAt ?? '');
    // A step whose result was recorded must never be executed again.
    if (task.status === 'SUCCEEDED' && req.at > finished) {
      problems.push(
        `task ${task.stepId}[${task.itemIndex}] of run ${req.run} was executed after it completed`,
      );
    }
  }
  const keysPerCall = new Map<string, Set<string | undefined>>();
  for (const req of report.requests) {
    const call = `${req.run}/${req.step}/${req.item}`;
    keysPerCall.set(call, (keysPerCall.get(call) ?? new Set()).add(req.key));
  }
  for (const [call, keys] of keysPerCall) {
    if (keys.size !== 1) problems.push(`re-sent requests of ${call} carried ${keys.size} different keys`);
  }
  for (const t of report.tasks) {
    if (!report.requests.some((r) => r.key === t.idempotencyKey)) {
      problems.push(`task ${t.id} succeeded without calling the counter`);
    }
  }
  return problems;
}
