// Graph at scale: run(id){tasks timeline graph} and runs(filter) pages through the real API
// over loopback, against 100,000 runs x 10 tasks of one tenant (bench/load-graph.ts), each
// beside the bare Neo4j reads of the same data. Targets (issue): run detail p95 < 100 ms,
// runs page p95 < 50 ms.
//
// Then, to find out why: each read alone (attribution), the PROFILE of every statement, the
// rewrites of bench/prototypes.ts timed against today's statements, and the same API requests
// served through a Graph that applies those rewrites (what the API does once they land).
//
// Cases of one table are timed interleaved (A, B, C, A, B, C …) so the load other processes
// put on the machine hits them alike. Slow cases stop at a time budget (BENCH_CASE_BUDGET_S per
// group, default 120) after at least 20 rounds; the n of every line is printed.
import { loadavg } from 'node:os';
import {
  countRuns,
  createGraph,
  type Graph,
  getRun,
  getTasksForRuns,
  listRuns,
  listTimeline,
  type RunFilter,
  runNeighbourhood,
} from '@maestro/graph';
import { loadServiceEnv } from '@maestro/testing';
import neo4j, { type Driver } from 'neo4j-driver';
import { type ApiHarness, startApi } from '../apps/api/test/api-harness.ts';
import {
  BENCH_SCOPE,
  BENCH_SUBJECT,
  BENCH_TENANT_ID,
  type Dataset,
  ensureDataset,
  type LoadReport,
  loadOptionsFromEnv,
  printLoadReport,
  runIdOf,
  WORKFLOWS,
} from './load-graph.ts';
import { type PlanSummary, printPlans, profile } from './profile.ts';
import { type RewriteOptions, rewriteOrSame, rewriteStatement, unrecognised } from './prototypes.ts';
import { captureOne, type RecordedQuery, transformingGraph } from './recording-graph.ts';
import { type Comparison, compare, measureInterleaved, printStats, printTable, type Stats } from './stats.ts';

export const TARGET_RUN_P95_MS = 100;
export const TARGET_RUNS_P95_MS = 50;
const PAGE = 50;
const DEEP_PAGES = 20;
const DAY_MS = 86_400_000;
const REWRITE: RewriteOptions = { countCap: 1_000 };

export interface GraphScaleResult {
  suite: 'graph-scale';
  n: number;
  budgetSeconds: number;
  dataset: Omit<Dataset, 'load'>;
  /** The load of this run, or (dataset.loadedNow false) the one recorded in the marker. */
  load: LoadReport | null;
  /** The API today against the bare reads (the repositories' own statements through the driver). */
  rows: Comparison[];
  /** The API with the bench rewrites applied (projection) against the rewritten bare reads. */
  projected: Comparison[];
  /** Each read on its own, to attribute the API's time. */
  diagnostics: Stats[];
  /** Today's statement (subject) against its rewrite (baseline): ratio = speed-up. */
  prototypes: Comparison[];
  /** The rewritten statements, as sent. */
  rewrites: Record<string, string>;
  plans: PlanSummary[];
  deepPage: { pagesFollowed: number[] };
  loadavg: { before: number[]; after: number[] };
}

const RUN_QUERY = `query Run($id: ID!) {
  run(id: $id) { id status tasks { id stepId status } timeline { type at } graph(depth: 1) { nodes { id } edges { type } } }
}`;
const RUN_MIN_QUERY = 'query Run($id: ID!) { run(id: $id) { id status } }';
const runsQuery = (totalCount: boolean) => `query Runs($filter: RunFilter, $first: Int, $after: String) {
  runs(filter: $filter, first: $first, after: $after) {
    edges { node { id status createdAt } } pageInfo { endCursor hasNextPage }${totalCount ? ' totalCount' : ''}
  }
}`;

interface RunsPage {
  runs: {
    edges: Array<{ node: { id: string } }>;
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
    totalCount?: number;
  };
}
interface RunDetail {
  run: {
    id: string;
    tasks: unknown[];
    timeline: unknown[];
    graph: { nodes: Array<{ id: string }>; edges: unknown[] };
  } | null;
}

/** mulberry32: reproducible sample order. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function bareReader(driver: Driver) {
  return async (q: RecordedQuery) => {
    const session = driver.session({ defaultAccessMode: neo4j.session.READ });
    try {
      return await session.executeRead((tx) => tx.run(q.query, q.params));
    } finally {
      await session.close();
    }
  };
}

/** The bench tenant and its member in Postgres, under the fixed id the graph data carries. */
async function ensureBenchTenant(api: ApiHarness): Promise<void> {
  const db = api.resources.db;
  await db.tenant.upsert({
    where: { id: BENCH_TENANT_ID },
    create: { id: BENCH_TENANT_ID, name: `bench ${BENCH_TENANT_ID}` },
    update: {},
  });
  await db.member.upsert({
    where: { tenantId_subject: { tenantId: BENCH_TENANT_ID, subject: BENCH_SUBJECT } },
    create: { tenantId: BENCH_TENANT_ID, subject: BENCH_SUBJECT, role: 'operator' },
    update: { role: 'operator' },
  });
}

type Gql = <T>(query: string, variables: Record<string, unknown>) => Promise<T>;

async function client(api: ApiHarness): Promise<Gql> {
  const token = await api.token(BENCH_SUBJECT, BENCH_TENANT_ID);
  return async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const { status, body } = await api.gql(query, { token, environment: 'dev', region: 'EU', variables });
    if (status !== 200 || body.errors?.length) {
      throw new Error(`graphql ${status}: ${JSON.stringify(body.errors ?? body).slice(0, 400)}`);
    }
    return body.data as T;
  };
}

export async function benchGraphScale(): Promise<GraphScaleResult> {
  const n = Number(process.env.BENCH_SCALE_N ?? 300);
  const budgetSeconds = Number(process.env.BENCH_CASE_BUDGET_S ?? 120);
  const timed = (cases: Array<{ name: string; fn: () => Promise<unknown> }>) =>
    measureInterleaved(cases, n, { warmup: 50, budgetMs: budgetSeconds * 1000, minSamples: 20 });
  const env = loadServiceEnv();
  const loadavgBefore = loadavg();
  const graph: Graph = createGraph({
    uri: env.NEO4J_URI,
    user: env.NEO4J_USER,
    password: env.NEO4J_PASSWORD,
  });
  const driver = neo4j.driver(env.NEO4J_URI, neo4j.auth.basic(env.NEO4J_USER, env.NEO4J_PASSWORD), {
    disableLosslessIntegers: true,
  });
  const bare = bareReader(driver);
  console.log('\n== graph at scale ==');
  const dataset = await ensureDataset(graph, loadOptionsFromEnv());
  if (dataset.load) {
    if (!dataset.loadedNow)
      console.log(`(load figures recorded by the marker, loaded at ${dataset.loadedAt})`);
    printLoadReport(dataset.load);
  }
  // Three API servers on the same services: as is; with the rewrites (countRuns capped); with
  // the rewrites and countRuns never sent (what a totalCount resolved only when selected costs).
  const apis: ApiHarness[] = [];
  const rows: Comparison[] = [];
  const projected: Comparison[] = [];
  const diagnostics: Stats[] = [];
  const prototypes: Comparison[] = [];
  const plans: PlanSummary[] = [];
  const scope = { ...BENCH_SCOPE };
  try {
    const today = await startApi();
    apis.push(today);
    await ensureBenchTenant(today);
    const fixed = await startApi();
    apis.push(fixed);
    const rewritten = transformingGraph(
      fixed.resources.graph,
      (q) => rewriteStatement(q, REWRITE)?.q ?? null,
    );
    fixed.resources.graph = rewritten.graph;
    const lazy = await startApi();
    apis.push(lazy);
    const lazyGraph = transformingGraph(lazy.resources.graph, (q) => {
      const r = rewriteStatement(q, REWRITE);
      return r?.kind === 'countRuns' ? 'skip' : (r?.q ?? null);
    });
    lazy.resources.graph = lazyGraph.graph;
    const gql = await client(today);
    const gqlFixed = await client(fixed);
    const gqlLazy = await client(lazy);

    // Sanity: the data is what the API reads, and the other scope stays invisible.
    const first = await gql<RunDetail>(RUN_QUERY, { id: runIdOf(0) });
    if (!first.run || first.run.tasks.length !== dataset.tasksPerRun || first.run.timeline.length < 2) {
      throw new Error(`unexpected run detail for ${runIdOf(0)}: ${JSON.stringify(first).slice(0, 300)}`);
    }
    if (JSON.stringify(await gqlFixed<RunDetail>(RUN_QUERY, { id: runIdOf(0) })) !== JSON.stringify(first)) {
      throw new Error('the API with the rewrites answers run(id) differently');
    }
    const otherScope = await gql<RunDetail>(RUN_QUERY, { id: runIdOf(0, 'prod-us') });
    if (otherScope.run !== null) throw new Error('a prod/US run is visible from dev/EU');
    console.log(
      `sanity: run ${runIdOf(0)} has ${first.run.tasks.length} tasks, ${first.run.timeline.length} events, ` +
        `graph ${first.run.graph.nodes.length} nodes / ${first.run.graph.edges.length} edges; prod/US run not visible ✓`,
    );

    // ------------------------------------------------------------------ run(id)
    const rand = random(0xb001);
    const pickRun = () => runIdOf(Math.floor(rand() * dataset.runs));
    const id0 = runIdOf(0);
    const qRun = await captureOne(graph, (g) => getRun(g, scope, id0));
    const qTasks = await captureOne(graph, (g) => getTasksForRuns(g, scope, [id0]));
    const qTimeline = await captureOne(graph, (g) => listTimeline(g, scope, id0, 500, null));
    const qGraph = await captureOne(graph, (g) => runNeighbourhood(g, scope, id0, 1));
    const forRun = {
      run: (id: string) => ({ ...qRun, params: { ...qRun.params, ids: [id] } }),
      tasks: (id: string) => ({ ...qTasks, params: { ...qTasks.params, runIds: [id] } }),
      timeline: (id: string) => ({ ...qTimeline, params: { ...qTimeline.params, runId: id } }),
      timelineRewrite: (id: string) =>
        rewriteOrSame({ ...qTimeline, params: { ...qTimeline.params, runId: id } }, 'timeline', REWRITE),
      graph: (id: string) => ({ ...qGraph, params: { ...qGraph.params, runId: id } }),
    };
    const runDetail = (g: Gql) => async () => {
      const d = await g<RunDetail>(RUN_QUERY, { id: pickRun() });
      if (!d.run) throw new Error('run not found');
    };
    const [apiRun, apiRunFixed, bareRun, bareRunFixed] = await timed([
      { name: 'api: run(id){tasks timeline graph(depth:1)}', fn: runDetail(gql) },
      { name: 'api+rewrites: run(id){tasks timeline graph}', fn: runDetail(gqlFixed) },
      {
        name: 'bare: run by id, then its tasks + events',
        fn: async () => {
          const id = pickRun();
          await bare(forRun.run(id));
          await Promise.all([bare(forRun.tasks(id)), bare(forRun.timeline(id))]);
        },
      },
      {
        name: 'bare: same, events by (runId, seq) seek',
        fn: async () => {
          const id = pickRun();
          await bare(forRun.run(id));
          await Promise.all([bare(forRun.tasks(id)), bare(forRun.timelineRewrite(id))]);
        },
      },
    ]);
    if (!apiRun || !apiRunFixed || !bareRun || !bareRunFixed) throw new Error('missing stats');
    rows.push(compare('run detail', apiRun, bareRun, TARGET_RUN_P95_MS));
    projected.push(compare('run detail', apiRunFixed, bareRunFixed, TARGET_RUN_P95_MS));

    diagnostics.push(
      ...(await timed([
        {
          name: 'api: run(id){id status} (HTTP, JWT, PG auth, getRun)',
          fn: () => gql<RunDetail>(RUN_MIN_QUERY, { id: pickRun() }),
        },
        {
          name: 'pg: tenant + member lookup (per-request auth)',
          fn: async () => {
            await today.resources.db.tenant.findUnique({ where: { id: BENCH_TENANT_ID } });
            await today.resources.db.member.findUnique({
              where: { tenantId_subject: { tenantId: BENCH_TENANT_ID, subject: BENCH_SUBJECT } },
            });
          },
        },
        { name: 'repo getRun', fn: () => getRun(graph, scope, pickRun()) },
        { name: 'repo getTasksForRuns (1 run)', fn: () => getTasksForRuns(graph, scope, [pickRun()]) },
        { name: 'repo listTimeline (first 500)', fn: () => listTimeline(graph, scope, pickRun(), 500, null) },
        { name: 'repo runNeighbourhood (depth 1)', fn: () => runNeighbourhood(graph, scope, pickRun(), 1) },
      ])),
    );

    // ------------------------------------------------------------------ runs(filter)
    const end = Date.parse(dataset.windowEnd);
    const variants = WORKFLOWS.flatMap((w) =>
      [0, 7].map((offsetDays) => {
        const after = new Date(end - (offsetDays + 14) * DAY_MS);
        const before = new Date(end - offsetDays * DAY_MS);
        const filter: RunFilter = {
          status: ['SUCCEEDED', 'FAILED'],
          workflow: w.name,
          createdAfter: after,
          createdBefore: before,
        };
        const variables = {
          status: filter.status,
          workflow: w.name,
          createdAfter: after.toISOString(),
          createdBefore: before.toISOString(),
        };
        return { filter, variables, deepCursor: null as string | null, pages: 0, total: 0 };
      }),
    );
    // Follow endCursor DEEP_PAGES pages deep through the API; the page after that is the deep page.
    for (const v of variants) {
      let after: string | null = null;
      while (v.pages < DEEP_PAGES) {
        const d: RunsPage = await gql<RunsPage>(runsQuery(true), { filter: v.variables, first: PAGE, after });
        if (v.pages === 0) v.total = d.runs.totalCount ?? 0;
        if (!d.runs.pageInfo.hasNextPage) break;
        after = d.runs.pageInfo.endCursor;
        v.pages++;
      }
      v.deepCursor = after;
    }
    const pagesFollowed = variants.map((v) => v.pages);
    console.log(
      `runs filter: status [SUCCEEDED, FAILED] + one workflow + a 14-day window (${variants.length} variants, ` +
        `totalCount ${variants.map((v) => v.total).join(',')}); ` +
        `deep page = the page after ${Math.min(...pagesFollowed)} followed (per variant: ${pagesFollowed.join(',')})`,
    );
    const pick = () => {
      const i = Math.floor(rand() * variants.length);
      const v = variants[i];
      if (!v) throw new Error('no variant');
      return { v, i };
    };
    const captured = new Map<string, RecordedQuery>();
    for (const [i, v] of variants.entries()) {
      captured.set(`first:${i}`, await captureOne(graph, (g) => listRuns(g, scope, v.filter, PAGE, null)));
      captured.set(
        `deep:${i}`,
        await captureOne(graph, (g) => listRuns(g, scope, v.filter, PAGE, v.deepCursor)),
      );
      captured.set(`count:${i}`, await captureOne(graph, (g) => countRuns(g, scope, v.filter)));
    }
    const q = (kind: 'first' | 'deep' | 'count', i: number) => {
      const found = captured.get(`${kind}:${i}`);
      if (!found) throw new Error(`no captured ${kind}:${i}`);
      return found;
    };
    const rq = (kind: 'first' | 'deep' | 'count', i: number) =>
      rewriteOrSame(q(kind, i), kind === 'count' ? 'countRuns' : 'listRuns', REWRITE);

    // The rewrites return the same rows before anything is timed.
    const ids = (r: Awaited<ReturnType<typeof bare>>, key: string) =>
      JSON.stringify(r.records.map((x) => (x.get(key) as { id?: string }).id ?? x.get(key)));
    for (const id of [runIdOf(1), runIdOf(dataset.runs - 1)]) {
      if (
        ids(await bare(forRun.timeline(id)), 'event') !== ids(await bare(forRun.timelineRewrite(id)), 'event')
      ) {
        throw new Error(`timeline rewrite differs for ${id}`);
      }
    }
    for (const [i] of variants.entries()) {
      for (const kind of ['first', 'deep'] as const) {
        if (ids(await bare(q(kind, i)), 'run') !== ids(await bare(rq(kind, i)), 'run')) {
          throw new Error(`listRuns rewrite (${kind}, variant ${i}) returns other rows`);
        }
      }
      const c = Number((await bare(q('count', i))).records[0]?.get('n'));
      const d = Number((await bare(rq('count', i))).records[0]?.get('n'));
      if (d !== Math.min(c, REWRITE.countCap)) throw new Error(`capped count ${d} vs ${c}`);
    }
    console.log('rewrites return the same rows as today’s statements ✓ (the count: min(count, cap))');

    const page = (g: Gql, withCount: boolean, deep: boolean) => async (): Promise<void> => {
      const { v } = pick();
      await g(runsQuery(withCount), { filter: v.variables, first: PAGE, after: deep ? v.deepCursor : null });
    };
    for (const deep of [false, true]) {
      const which = deep ? 'deep' : 'first';
      const label = deep ? 'deep page' : `first page (${PAGE})`;
      const [withCount, noCount, fixedWith, lazyNo, bareToday, bareFixed] = await timed([
        { name: `api: runs(filter) ${label}, with totalCount`, fn: page(gql, true, deep) },
        { name: `api: runs(filter) ${label}, no totalCount`, fn: page(gql, false, deep) },
        {
          name: `api+rewrites: ${label}, totalCount capped ${REWRITE.countCap}`,
          fn: page(gqlFixed, true, deep),
        },
        { name: `api+rewrites: ${label}, totalCount not computed`, fn: page(gqlLazy, false, deep) },
        { name: `bare: listRuns keyset Cypher, ${label}`, fn: () => bare(q(which, pick().i)) },
        { name: `bare: rewritten keyset Cypher, ${label}`, fn: () => bare(rq(which, pick().i)) },
      ]);
      if (!withCount || !noCount || !fixedWith || !lazyNo || !bareToday || !bareFixed) {
        throw new Error('missing stats');
      }
      rows.push(
        compare(`runs ${label}, with totalCount`, withCount, bareToday, TARGET_RUNS_P95_MS),
        compare(`runs ${label}, no totalCount`, noCount, bareToday, TARGET_RUNS_P95_MS),
      );
      projected.push(
        compare(`runs ${label}, capped totalCount`, fixedWith, bareFixed, TARGET_RUNS_P95_MS),
        compare(`runs ${label}, lazy totalCount`, lazyNo, bareFixed, TARGET_RUNS_P95_MS),
      );
    }
    if (unrecognised().length) {
      console.log(
        `! packages/graph no longer sends the statement the prototype rewrites for: ${unrecognised().join(', ')} ` +
          '(changed meanwhile?) — those lines compare a statement with itself',
      );
    }
    console.log(
      `(the rewriting API graphs changed ${rewritten.changed()} + ${lazyGraph.changed()} statements)`,
    );
    diagnostics.push(
      ...(await timed([
        { name: 'repo listRuns first page', fn: () => listRuns(graph, scope, pick().v.filter, PAGE, null) },
        {
          name: 'repo listRuns deep page',
          fn: () => {
            const { v } = pick();
            return listRuns(graph, scope, v.filter, PAGE, v.deepCursor);
          },
        },
        { name: 'repo countRuns (totalCount)', fn: () => countRuns(graph, scope, pick().v.filter) },
      ])),
    );

    // ------------------------------------------------------------------ statements: today vs rewrite
    const pair = async (
      name: string,
      a: string,
      b: string,
      fa: () => Promise<unknown>,
      fb: () => Promise<unknown>,
    ) => {
      const [sa, sb] = await timed([
        { name: a, fn: fa },
        { name: b, fn: fb },
      ]);
      if (!sa || !sb) throw new Error('missing stats');
      prototypes.push(compare(name, sa, sb));
    };
    await pair(
      'timeline (tasks.ts listTimeline)',
      'today: listTimeline',
      'rewrite: e.seq > coalesce($afterSeq, -1)',
      () => bare(forRun.timeline(pickRun())),
      () => bare(forRun.timelineRewrite(pickRun())),
    );
    await pair(
      'runs first page (runs.ts listRuns)',
      'today: listRuns first page',
      'rewrite: ORDER BY scope keys, createdAt, id',
      () => bare(q('first', pick().i)),
      () => bare(rq('first', pick().i)),
    );
    await pair(
      'runs deep page (runs.ts listRuns)',
      'today: listRuns deep page',
      'rewrite: same + seekable cursor bound',
      () => bare(q('deep', pick().i)),
      () => bare(rq('deep', pick().i)),
    );
    await pair(
      'totalCount (runs.ts countRuns)',
      'today: countRuns',
      `rewrite: count capped at ${REWRITE.countCap}`,
      () => bare(q('count', pick().i)),
      () => bare(rq('count', pick().i)),
    );

    // ------------------------------------------------------------------ plans
    const id = runIdOf(Math.floor(dataset.runs / 2));
    plans.push(
      await profile(driver, 'getRun', forRun.run(id)),
      await profile(driver, 'getTasksForRuns', forRun.tasks(id)),
      await profile(driver, 'listTimeline (today)', forRun.timeline(id)),
      await profile(driver, 'listTimeline (rewrite)', forRun.timelineRewrite(id)),
      await profile(driver, 'runNeighbourhood depth 1', forRun.graph(id)),
      await profile(driver, 'listRuns first page (today)', q('first', 0)),
      await profile(driver, 'listRuns first page (rewrite)', rq('first', 0)),
      await profile(driver, 'listRuns deep page (today)', q('deep', 0)),
      await profile(driver, 'listRuns deep page (rewrite)', rq('deep', 0)),
      await profile(driver, 'countRuns (today)', q('count', 0)),
      await profile(driver, `countRuns capped ${REWRITE.countCap} (rewrite)`, rq('count', 0)),
    );
    return {
      suite: 'graph-scale',
      n,
      budgetSeconds,
      dataset: withoutLoad(dataset),
      load: dataset.load,
      rows,
      projected,
      diagnostics,
      prototypes,
      rewrites: {
        timeline: forRun.timelineRewrite(id).query,
        listRunsFirst: rq('first', 0).query,
        listRunsDeep: rq('deep', 0).query,
        countRuns: rq('count', 0).query,
      },
      plans,
      deepPage: { pagesFollowed },
      loadavg: { before: loadavgBefore, after: loadavg() },
    };
  } finally {
    for (const api of apis) await api.close();
    await driver.close();
    await graph.close();
  }
}

function withoutLoad(d: Dataset): Omit<Dataset, 'load'> {
  const { load: _load, ...rest } = d;
  return rest;
}

export function printGraphScale(r: GraphScaleResult): void {
  console.log(
    `\ngraph at scale: ${r.dataset.runs.toLocaleString('en')} runs x ${r.dataset.tasksPerRun} tasks (tenant ${r.dataset.tenantId}, ` +
      `${r.dataset.environment}/${r.dataset.region}; noise: 2 tenants x 10%, prod/US 5%); up to n=${r.n} per case, ` +
      `${r.budgetSeconds} s budget per group; load average before ${r.loadavg.before.map((x) => x.toFixed(2)).join(' ')}`,
  );
  console.log('\nthe API today (baseline: the repositories’ statements, bare through the driver)');
  printTable(r.rows, { width: 56, showN: true });
  console.log('\nthe API with the bench rewrites applied (baseline: the rewritten statements, bare)');
  printTable(r.projected, { width: 56, showN: true });
  console.log('\nattribution (each read alone)                                  p50 / p95 / p99 ms');
  printStats(r.diagnostics);
  console.log('\nstatements: today (subject) vs rewrite (baseline); ratio = speed-up');
  printTable(r.prototypes, { width: 56, showP95: true, showN: true });
  console.log('\nPROFILE (one representative sample each; BENCH_PLANS=verbose for the operator trees)');
  printPlans(r.plans, process.env.BENCH_PLANS === 'verbose');
}
