// Graph at scale: run(id){tasks timeline graph} and runs(filter) pages through the real API
// over loopback, against 100,000 runs x 10 tasks of one tenant (bench/load-graph.ts), each
// beside the bare Neo4j reads of the same data (the repositories' own statements, captured and
// replayed through the driver). Targets (issue #3): run detail p95 < 100 ms, runs page p95 < 50 ms.
//
// Then, to find out why: each read alone (attribution) and the PROFILE of every statement
// (BENCH_PLANS=verbose prints the operator trees).
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
import { captureOne, type RecordedQuery } from './recording-graph.ts';
import { type Comparison, compare, measureInterleaved, printStats, printTable, type Stats } from './stats.ts';

export const TARGET_RUN_P95_MS = 100;
export const TARGET_RUNS_P95_MS = 50;
const PAGE = 50;
const DEEP_PAGES = 20;
const DAY_MS = 86_400_000;
/** totalCount(upTo:) as a UI asks for a "1,000+" badge. */
const COUNT_UP_TO = 1_000;

export interface GraphScaleResult {
  suite: 'graph-scale';
  n: number;
  budgetSeconds: number;
  dataset: Omit<Dataset, 'load'>;
  /** The load of this run, or (dataset.loadedNow false) the one recorded in the marker. */
  load: LoadReport | null;
  /** The API against the bare reads (the repositories' statements through the driver). */
  rows: Comparison[];
  /** Each read on its own, to attribute the API's time. */
  diagnostics: Stats[];
  plans: PlanSummary[];
  deepPage: { pagesFollowed: number[] };
  loadavg: { before: number[]; after: number[] };
}

const RUN_QUERY = `query Run($id: ID!) {
  run(id: $id) { id status tasks { id stepId status } timeline { type at } graph(depth: 1) { nodes { id } edges { type } } }
}`;
const RUN_MIN_QUERY = 'query Run($id: ID!) { run(id: $id) { id status } }';
type Count = 'none' | 'upTo' | 'exact';
const runsQuery = (count: Count) => `query Runs($filter: RunFilter, $first: Int, $after: String) {
  runs(filter: $filter, first: $first, after: $after) {
    edges { node { id status createdAt } } pageInfo { endCursor hasNextPage }${
      count === 'exact' ? ' totalCount' : count === 'upTo' ? ` totalCount(upTo: ${COUNT_UP_TO})` : ''
    }
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

interface Variant {
  name: string;
  filter: RunFilter;
  variables: Record<string, unknown>;
  deepCursor: string | null;
  pages: number;
  total: number;
}

function variantOf(name: string, filter: RunFilter): Variant {
  const variables: Record<string, unknown> = {};
  if (filter.status) variables.status = filter.status;
  if (filter.workflow) variables.workflow = filter.workflow;
  if (filter.createdAfter) variables.createdAfter = filter.createdAfter.toISOString();
  if (filter.createdBefore) variables.createdBefore = filter.createdBefore.toISOString();
  return { name, filter, variables, deepCursor: null, pages: 0, total: 0 };
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
  const rows: Comparison[] = [];
  const diagnostics: Stats[] = [];
  const plans: PlanSummary[] = [];
  const scope = { ...BENCH_SCOPE };
  let api: ApiHarness | null = null;
  try {
    api = await startApi();
    await ensureBenchTenant(api);
    const gql = await client(api);

    // Sanity: the data is what the API reads, and the other scope stays invisible.
    const first = await gql<RunDetail>(RUN_QUERY, { id: runIdOf(0) });
    if (!first.run || first.run.tasks.length !== dataset.tasksPerRun || first.run.timeline.length < 2) {
      throw new Error(`unexpected run detail for ${runIdOf(0)}: ${JSON.stringify(first).slice(0, 300)}`);
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
      graph: (id: string) => ({ ...qGraph, params: { ...qGraph.params, runId: id } }),
    };
    const [apiRun, bareRun] = await timed([
      {
        name: 'api: run(id){tasks timeline graph(depth:1)}',
        fn: async () => {
          const d = await gql<RunDetail>(RUN_QUERY, { id: pickRun() });
          if (!d.run) throw new Error('run not found');
        },
      },
      {
        // What the resolvers send, without HTTP, auth, policy or GraphQL: the run, then its
        // tasks, timeline and graph pane at once.
        name: 'bare: run by id, then tasks + events + graph',
        fn: async () => {
          const id = pickRun();
          await bare(forRun.run(id));
          await Promise.all([bare(forRun.tasks(id)), bare(forRun.timeline(id)), bare(forRun.graph(id))]);
        },
      },
    ]);
    if (!apiRun || !bareRun) throw new Error('missing stats');
    rows.push(compare('run detail', apiRun, bareRun, TARGET_RUN_P95_MS));

    diagnostics.push(
      ...(await timed([
        {
          name: 'api: run(id){id status} (HTTP, JWT, PG auth, getRun)',
          fn: () => gql<RunDetail>(RUN_MIN_QUERY, { id: pickRun() }),
        },
        {
          name: 'pg: tenant + member lookup (per-request auth)',
          fn: async () => {
            await api?.resources.db.tenant.findUnique({ where: { id: BENCH_TENANT_ID } });
            await api?.resources.db.member.findUnique({
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
    const window = (offsetDays: number) => ({
      createdAfter: new Date(end - (offsetDays + 14) * DAY_MS),
      createdBefore: new Date(end - offsetDays * DAY_MS),
    });
    // The headline filter (as measured before): two statuses + one workflow + a 14-day window.
    const variants = WORKFLOWS.flatMap((w) =>
      [0, 7].map((offsetDays) =>
        variantOf(`${w.name} -${offsetDays}d`, {
          status: ['SUCCEEDED', 'FAILED'],
          workflow: w.name,
          ...window(offsetDays),
        }),
      ),
    );
    // Other filter shapes, one index each (ADR 0006): none, a window, one status, a workflow and
    // one status, a workflow alone.
    const shapes = [
      variantOf('no filter', {}),
      variantOf('14-day window', window(7)),
      variantOf('status FAILED', { status: ['FAILED'] }),
      variantOf('ml-train + FAILED', { workflow: 'ml-train', status: ['FAILED'] }),
      variantOf('backfill', { workflow: 'backfill' }),
    ];
    // Follow endCursor DEEP_PAGES pages deep through the API; the page after that is the deep page.
    for (const v of [...variants, ...shapes]) {
      let after: string | null = null;
      while (v.pages < DEEP_PAGES) {
        const d: RunsPage = await gql<RunsPage>(runsQuery(v.pages === 0 ? 'exact' : 'none'), {
          filter: v.variables,
          first: PAGE,
          after,
        });
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
    console.log(
      `other filter shapes: ${shapes.map((v) => `${v.name} (${v.total.toLocaleString('en')}, ${v.pages} pages followed)`).join('; ')}`,
    );
    const pick = (list: Variant[]) => {
      const i = Math.floor(rand() * list.length);
      const v = list[i];
      if (!v) throw new Error('no variant');
      return v;
    };
    const captured = new Map<Variant, Record<'first' | 'deep' | 'count' | 'countUpTo', RecordedQuery>>();
    for (const v of [...variants, ...shapes]) {
      captured.set(v, {
        first: await captureOne(graph, (g) => listRuns(g, scope, v.filter, PAGE, null)),
        deep: await captureOne(graph, (g) => listRuns(g, scope, v.filter, PAGE, v.deepCursor)),
        count: await captureOne(graph, (g) => countRuns(g, scope, v.filter)),
        countUpTo: await captureOne(graph, (g) => countRuns(g, scope, v.filter, { upTo: COUNT_UP_TO })),
      });
    }
    const q = (v: Variant, kind: 'first' | 'deep' | 'count' | 'countUpTo') => {
      const found = captured.get(v)?.[kind];
      if (!found) throw new Error(`no captured ${kind} for ${v.name}`);
      return found;
    };

    const page = (list: Variant[], count: Count, deep: boolean) => async (): Promise<void> => {
      const v = pick(list);
      await gql(runsQuery(count), { filter: v.variables, first: PAGE, after: deep ? v.deepCursor : null });
    };
    for (const deep of [false, true]) {
      const which = deep ? 'deep' : 'first';
      const label = deep ? 'deep page' : `first page (${PAGE})`;
      const [none, upTo, exact, bareFirst, bareUpTo, bareExact] = await timed([
        { name: `api: runs(filter) ${label}`, fn: page(variants, 'none', deep) },
        { name: `api: same + totalCount(upTo: ${COUNT_UP_TO})`, fn: page(variants, 'upTo', deep) },
        { name: 'api: same + totalCount (exact)', fn: page(variants, 'exact', deep) },
        { name: `bare: listRuns keyset Cypher, ${label}`, fn: () => bare(q(pick(variants), which)) },
        {
          name: `bare: listRuns + countRuns upTo ${COUNT_UP_TO} (parallel)`,
          fn: () => {
            const v = pick(variants);
            return Promise.all([bare(q(v, which)), bare(q(v, 'countUpTo'))]);
          },
        },
        {
          name: 'bare: listRuns + countRuns exact (parallel)',
          fn: () => {
            const v = pick(variants);
            return Promise.all([bare(q(v, which)), bare(q(v, 'count'))]);
          },
        },
      ]);
      if (!none || !upTo || !exact || !bareFirst || !bareUpTo || !bareExact) throw new Error('missing stats');
      rows.push(
        compare(`runs ${label}`, none, bareFirst, TARGET_RUNS_P95_MS),
        compare(`runs ${label}, totalCount(upTo)`, upTo, bareUpTo, TARGET_RUNS_P95_MS),
        compare(`runs ${label}, exact totalCount`, exact, bareExact, TARGET_RUNS_P95_MS),
      );
    }
    const [shapeFirst, shapeDeep, shapeBareFirst, shapeBareDeep] = await timed([
      { name: 'api: runs(other filter shapes) first page', fn: page(shapes, 'none', false) },
      { name: 'api: runs(other filter shapes) deep page', fn: page(shapes, 'none', true) },
      { name: 'bare: listRuns, first page', fn: () => bare(q(pick(shapes), 'first')) },
      { name: 'bare: listRuns, deep page', fn: () => bare(q(pick(shapes), 'deep')) },
    ]);
    if (!shapeFirst || !shapeDeep || !shapeBareFirst || !shapeBareDeep) throw new Error('missing stats');
    rows.push(
      compare('runs, other filter shapes, first page', shapeFirst, shapeBareFirst, TARGET_RUNS_P95_MS),
      compare('runs, other filter shapes, deep page', shapeDeep, shapeBareDeep, TARGET_RUNS_P95_MS),
    );
    diagnostics.push(
      ...(await timed([
        {
          name: 'repo listRuns first page',
          fn: () => listRuns(graph, scope, pick(variants).filter, PAGE, null),
        },
        {
          name: 'repo listRuns deep page',
          fn: () => {
            const v = pick(variants);
            return listRuns(graph, scope, v.filter, PAGE, v.deepCursor);
          },
        },
        { name: 'repo countRuns (exact)', fn: () => countRuns(graph, scope, pick(variants).filter) },
        {
          name: `repo countRuns (upTo ${COUNT_UP_TO})`,
          fn: () => countRuns(graph, scope, pick(variants).filter, { upTo: COUNT_UP_TO }),
        },
        { name: 'repo countRuns (exact), no filter', fn: () => countRuns(graph, scope, {}) },
      ])),
    );

    // ------------------------------------------------------------------ plans
    const id = runIdOf(Math.floor(dataset.runs / 2));
    const v0 = variants[0] as Variant;
    plans.push(
      await profile(driver, 'getRun', forRun.run(id)),
      await profile(driver, 'getTasksForRuns', forRun.tasks(id)),
      await profile(driver, 'listTimeline', forRun.timeline(id)),
      await profile(driver, 'runNeighbourhood depth 1', forRun.graph(id)),
      await profile(driver, `listRuns first page (${v0.name})`, q(v0, 'first')),
      await profile(driver, `listRuns deep page (${v0.name})`, q(v0, 'deep')),
      await profile(driver, `countRuns exact (${v0.name})`, q(v0, 'count')),
      await profile(driver, `countRuns upTo ${COUNT_UP_TO} (${v0.name})`, q(v0, 'countUpTo')),
    );
    for (const v of shapes) {
      plans.push(
        await profile(driver, `listRuns first page (${v.name})`, q(v, 'first')),
        await profile(driver, `listRuns deep page (${v.name})`, q(v, 'deep')),
      );
    }
    return {
      suite: 'graph-scale',
      n,
      budgetSeconds,
      dataset: withoutLoad(dataset),
      load: dataset.load,
      rows,
      diagnostics,
      plans,
      deepPage: { pagesFollowed },
      loadavg: { before: loadavgBefore, after: loadavg() },
    };
  } finally {
    await api?.close();
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
  console.log('\nthe API (baseline: the repositories’ statements, bare through the driver)');
  printTable(r.rows, { width: 56, showN: true });
  console.log('\nattribution (each read alone)                                  p50 / p95 / p99 ms');
  printStats(r.diagnostics);
  console.log('\nPROFILE (one representative sample each; BENCH_PLANS=verbose for the operator trees)');
  printPlans(r.plans, process.env.BENCH_PLANS === 'verbose');
}
