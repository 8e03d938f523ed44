// PROFILE a statement and summarise its plan: total db hits, the operator tree with rows and
// db hits, and the red flags (label/all-node scans, full sorts over many rows).
import type { Driver, ProfiledPlan } from 'neo4j-driver';
import neo4j from 'neo4j-driver';
import type { RecordedQuery } from './recording-graph.ts';

export interface PlanSummary {
  name: string;
  dbHits: number;
  /** Rows produced by the deepest (leaf) operators: what the query had to read to start with. */
  leafRows: number;
  rows: number;
  /** One line per operator, indented by depth: `Operator rows=… dbHits=… details`. */
  plan: string[];
  flags: string[];
}

function walk(p: ProfiledPlan, depth: number, out: string[], acc: { dbHits: number; leafRows: number }) {
  const details = String((p.arguments as Record<string, unknown>).Details ?? '');
  const op = p.operatorType.replace(/@.*$/, '');
  out.push(`${'  '.repeat(depth)}${op} rows=${p.rows} dbHits=${p.dbHits} ${details.slice(0, 200)}`);
  acc.dbHits += p.dbHits;
  if (p.children.length === 0) acc.leafRows += p.rows;
  for (const c of p.children) walk(c, depth + 1, out, acc);
}

function flagsOf(lines: string[]): string[] {
  const flags: string[] = [];
  for (const line of lines) {
    const t = line.trim();
    const rows = Number(/rows=(\d+)/.exec(t)?.[1] ?? 0);
    if (/^(NodeByLabelScan|AllNodesScan)/.test(t)) flags.push(`scan: ${t.slice(0, 120)}`);
    if (/^(Sort|Top) /.test(t) && rows > 1_000) flags.push(`sort over ${rows} rows: ${t.slice(0, 100)}`);
    if (/^(Top|Sort) /.test(t)) {
      const child = lines[lines.indexOf(line) + 1] ?? '';
      const childRows = Number(/rows=(\d+)/.exec(child)?.[1] ?? 0);
      if (childRows > 1_000) flags.push(`${t.split(' ')[0]} consumed ${childRows} rows (no index order)`);
    }
  }
  return flags;
}

export async function profile(driver: Driver, name: string, q: RecordedQuery): Promise<PlanSummary> {
  const session = driver.session({ defaultAccessMode: neo4j.session.READ });
  try {
    const result = await session.executeRead((tx) => tx.run(`PROFILE ${q.query}`, q.params));
    const p = result.summary.profile;
    if (!p) throw new Error(`no profile for ${name}`);
    const plan: string[] = [];
    const acc = { dbHits: 0, leafRows: 0 };
    walk(p, 0, plan, acc);
    return { name, dbHits: acc.dbHits, leafRows: acc.leafRows, rows: p.rows, plan, flags: flagsOf(plan) };
  } finally {
    await session.close();
  }
}

export function printPlans(plans: PlanSummary[], verbose = false): void {
  for (const s of plans) {
    console.log(
      `${s.name.padEnd(58)} dbHits=${String(s.dbHits).padStart(8)} leafRows=${String(s.leafRows).padStart(7)} rows=${s.rows}`,
    );
    for (const f of s.flags) console.log(`    ! ${f}`);
    if (verbose) for (const line of s.plan) console.log(`      ${line}`);
  }
}
