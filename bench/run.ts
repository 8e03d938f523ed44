// npm run bench: walking-skeleton round trips against the real services, each beside a bare
// baseline measured in the same run, then the graph at scale (bench/graph-scale.ts: 100,000
// runs x 10 tasks loaded once by bench/load-graph.ts). Prints p50/p95/p99 and writes
// bench/results/<suite>-<time>.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '@maestro/domain';
import { createGraph, saveWorkflowVersion } from '@maestro/graph';
import { createProducer, jobs } from '@maestro/queue';
import { loadServiceEnv, REPO_ROOT, uniqueName } from '@maestro/testing';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { pino } from 'pino';
import { startApi } from '../apps/api/test/api-harness.ts';
import { startWorkers } from '../apps/worker/src/workers.ts';
import { benchEngine } from './engine.ts';
import { benchGraphScale, printGraphScale } from './graph-scale.ts';
import { benchPolicy } from './policy.ts';
import { type Comparison, compare, measure, printTable } from './stats.ts';

const N = Number(process.env.BENCH_N ?? 500);
const env = loadServiceEnv();
const rows: Comparison[] = [];

async function benchWhoami() {
  const api = await startApi();
  const tenantId = await api.makeTenant({ alice: 'operator' });
  const token = await api.token('alice', tenantId);
  const query =
    '{ whoami { subject roles tenant { id name } quota { maxConcurrent inUse } budget { remainingUSD } } }';
  const subject = await measure('api: whoami over HTTP (JWT, PG, Neo4j, policy)', N, async () => {
    const { status } = await api.gql(query, { token, environment: 'dev', region: 'EU' });
    if (status !== 200) throw new Error(`whoami ${status}`);
  });
  // Baseline: the same store reads, straight through the drivers (no HTTP, GraphQL or auth).
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  const driver = neo4j.driver(env.NEO4J_URI, neo4j.auth.basic(env.NEO4J_USER, env.NEO4J_PASSWORD));
  const baseline = await measure('bare pg tenant+member + neo4j count', N, async () => {
    await client.query('SELECT * FROM tenants WHERE id = $1', [tenantId]);
    await client.query('SELECT * FROM members WHERE tenant_id = $1 AND subject = $2', [tenantId, 'alice']);
    await driver.executeQuery('MATCH (r:Run {tenantId: $t}) RETURN count(r)', { t: tenantId });
  });
  rows.push(compare('whoami', subject, baseline));
  await client.end();
  await driver.close();
  await api.close();
}

async function benchQueue() {
  const producer = createProducer({ url: env.REDIS_URL });
  const running = startWorkers({
    redisUrl: env.REDIS_URL,
    workerId: 'bench',
    concurrency: 1,
    logger: pino({ level: 'silent' }),
  });
  const events = new QueueEvents(jobs.systemPing.queue, { connection: { url: env.REDIS_URL } });
  await events.waitUntilReady();
  const queue = producer.queue(jobs.systemPing.queue);
  const subject = await measure('queue: catalog job enqueue -> worker -> result', N, async () => {
    const id = await producer.enqueue('systemPing', { nonce: 'b', requestedAt: new Date().toISOString() });
    await (await queue.getJob(id))?.waitUntilFinished(events, 10_000);
  });
  // Baseline: bare BullMQ, no catalog, no validation.
  const bareName = uniqueName('bench-bare');
  const bare = new Queue(bareName, { connection: { url: env.REDIS_URL } });
  const bareWorker = new Worker(bareName, async (job: Job) => job.data, {
    connection: { url: env.REDIS_URL, maxRetriesPerRequest: null },
  });
  const bareEvents = new QueueEvents(bareName, { connection: { url: env.REDIS_URL } });
  await bareEvents.waitUntilReady();
  const baseline = await measure('bare BullMQ add -> worker -> result', N, async () => {
    const job = await bare.add('ping', { nonce: 'b' }, { removeOnComplete: true });
    await job.waitUntilFinished(bareEvents, 10_000);
  });
  rows.push(compare('queue round trip', subject, baseline));
  await Promise.all([bareWorker.close(), bareEvents.close(), events.close(), running.close()]);
  await bare.obliterate({ force: true });
  await bare.close();
  await producer.close();
}

async function benchGraph() {
  const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
  const scope = { tenantId: uniqueName('bench'), environment: 'dev', region: 'EU' };
  let i = 0;
  const subject = await measure('graph: saveWorkflowVersion (MERGE, idempotent)', N, async () => {
    const manifest = { name: 'bench', version: `1.0.${i++}`, steps: [{ id: 'a', uses: 'core.echo' }] };
    await saveWorkflowVersion(graph, scope, {
      name: 'bench',
      version: manifest.version,
      digest: digestOf(manifest),
      manifest,
      publishedBy: 'bench',
      publishedByRoles: ['composer'],
      publishedAt: new Date(),
    });
  });
  let j = 0;
  const baseline = await measure('bare neo4j CREATE one node', N, async () => {
    await graph.write((tx) =>
      tx.run('CREATE (:BenchNode {tenantId: $t, i: $i})', { t: scope.tenantId, i: j++ }),
    );
  });
  rows.push(compare('graph write', subject, baseline));
  await graph.write((tx) => tx.run('MATCH (n {tenantId: $t}) DETACH DELETE n', { t: scope.tenantId }));
  await graph.close();
}

// BENCH_SUITE=skeleton | engine | graph-scale | all (default). BENCH_SCALE=small: 5,000 runs instead of 100,000.
const suite = process.env.BENCH_SUITE ?? 'all';
if (!['all', 'skeleton', 'engine', 'graph-scale'].includes(suite))
  throw new Error(`unknown BENCH_SUITE ${suite}`);
const dir = join(REPO_ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const meta = () => ({
  at: new Date().toISOString(),
  cores: cpus().length,
  node: process.version,
  commit: commitOf(),
});

function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return readFileSync(join(REPO_ROOT, '.git/HEAD'), 'utf8').trim();
  }
}

if (suite === 'all' || suite === 'skeleton') {
  await benchWhoami();
  await benchQueue();
  await benchGraph();
  // in-process decision of the full start_workflow policy, beside bare opa-wasm
  await benchPolicy(rows);
  printTable(rows);
  const file = join(dir, `skeleton-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ suite: 'skeleton', ...meta(), n: N, rows }, null, 2));
  console.log(`\nwrote ${file}`);
}
if (suite === 'all' || suite === 'engine') {
  const result = await benchEngine();
  console.log('\nengine');
  printTable(result.rows, { width: 64, showN: true });
  const f = (x: number) => x.toFixed(1);
  console.log(
    `chain: ${f(result.chain.p50Ms)} ms for ${result.chain.steps} steps = ${f(result.chain.perStepOverheadMs)} ms/step, ` +
      `${result.chain.ratioP50.toFixed(2)}x bare BullMQ (target < 400 ms, <= 3x)`,
  );
  console.log(`starts: ${result.starts.runs} runs created in ${f(result.starts.allStartedInMs)} ms`);
  const s = result.sustained;
  console.log(
    `sustained (one worker process, ${result.cores} cores, ${f(s.seconds)} s): ${f(s.stepsPerSecond)} steps/s ` +
      `(${s.steps} steps; target >= 1000), baseline bare BullMQ no-op ${f(s.baselineStepsPerSecond)} jobs/s; ` +
      `worker RSS max ${f(s.rssMaxMB)} MB, end ${f(s.rssEndMB)} MB`,
  );
  console.log(
    `resume after kill -9 (restart -> first task finished, n=${result.resume.n}): p50 ${f(result.resume.p50)} ms, ` +
      `p95 ${f(result.resume.p95)} ms, p99 ${f(result.resume.p99)} ms (target < 5000 ms)`,
  );
  const file = join(dir, `engine-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ suite: 'engine', ...meta(), ...result }, null, 2));
  console.log(`\nwrote ${file}`);
}
if (suite === 'all' || suite === 'graph-scale') {
  const result = await benchGraphScale();
  printGraphScale(result);
  const file = join(dir, `graph-scale-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ ...meta(), ...result }, null, 2));
  console.log(`\nwrote ${file}`);
}
process.exit(0);
