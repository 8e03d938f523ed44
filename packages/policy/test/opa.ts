// Test fixtures: small Rego policies compiled with the opa CLI into a temp dir, and a real
// `opa run --server` for the remote adapter. Independent of policy-bundles/ and its build.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '@maestro/testing';
import { pack } from 'tar-stream';

const run = promisify(execFile);

export const OPA_BIN = process.env.OPA_BIN ?? join(REPO_ROOT, '.maestro/bin/opa');
export const BOTH_ENTRYPOINTS = ['maestro/main/decision', 'maestro/authz/decision'];

/** Role table used by both entrypoints; shipped as data.json, so setData is exercised. */
export const DATA = {
  fixture: {
    role_actions: {
      viewer: ['read'],
      operator: ['read', 'start_workflow', 'cancel_run'],
      admin: ['read', 'start_workflow', 'cancel_run', 'manage_members'],
    },
  },
};

/** Quotes, non-ASCII, % and braces: reasons must come through byte for byte. */
export const VERBATIM_REASON =
  'residency_violation: data must stay in "EU" — région ≠ us-east-1 (50% of 100\u00a0runs) {x} \\o/';

/**
 * The main policy. Knobs in input.subject: `boom` (a runtime error: conflicting values of a
 * complete rule), `spin: n` (a comprehension over n numbers, slow), `malformed` (a result of the
 * wrong shape), `undefined_decision` (no result).
 */
export const MAIN_REGO = `package maestro.main

import rego.v1

default allow := false

role_ok if {
	some role in input.actor.roles
	input.action in data.fixture.role_actions[role]
}

budget_exceeded if input.subject.estimate.costUSD > input.tenant.budget.remainingUSD

wrong_region if input.request.region == "us-east-1"

allow if {
	role_ok
	not budget_exceeded
	not wrong_region
	not conflict == 0
	not slow_count < 0
}

conflict = 1 if input.subject.boom

conflict = 2 if input.subject.boom

slow_count := count([x | some x in numbers.range(1, input.subject.spin); x % 7 == 0])

default requires_approval := false

requires_approval if {
	allow
	input.request.environment == "prod"
}

default approval := {"count": 0, "roles": []}

approval := {"count": 2, "roles": ["approver", "tenant_admin"]} if requires_approval

reasons contains "no_actor: the input names no actor" if not input.actor

# Reasons are built with concat, never sprintf: opa-wasm's sprintf is JavaScript's, so %v gives
# "a,b" for an array where OPA gives ["a", "b"], and 0.000001 or 1e-7 where OPA gives 1e-06 and
# 1e-07; the remote adapter's test checks that both engines give the same reasons.
reasons contains concat("", ["role_denied: role(s) ", concat(", ", input.actor.roles), " may not ", input.action]) if {
	input.actor
	not role_ok
}

reasons contains concat("", [
	"budget_exceeded: estimate ", usd(input.subject.estimate.costUSD),
	" exceeds the remaining ", usd(input.tenant.budget.remainingUSD),
]) if budget_exceeded

# A non-negative amount in dollars and cents, from whole cents: 250.5 -> "$250.50".
usd(x) := concat("", ["$", format_int(whole, 10), ".", substring(padded, count(padded) - 2, 2)]) if {
	all_cents := round(x * 100)
	whole := floor(all_cents / 100)
	padded := concat("", ["0", format_int(all_cents - (whole * 100), 10)])
}

reasons contains ${JSON.stringify(VERBATIM_REASON)} if wrong_region

warnings contains "prod_change: production runs need 2 approvals" if requires_approval

full := {
	"allow": allow,
	"requires_approval": requires_approval,
	"approval": approval,
	"reasons": [r | some r in reasons],
	"warnings": [w | some w in warnings],
}

decision = full if {
	not input.subject.malformed
	not input.subject.undefined_decision
}

decision = {"allow": true, "reasons": "not a list"} if input.subject.malformed
`;

export const AUTHZ_REGO = `package maestro.authz

import rego.v1

default allow := false

allow if {
	some role in input.actor.roles
	input.action in data.fixture.role_actions[role]
}

allow if {
	input.boom
	x == 0
}

x = 1 if input.boom

x = 2 if input.boom

reasons contains concat("", ["role(s) ", concat(", ", input.actor.roles), " may not ", input.action]) if not allow

decision := {"allow": allow, "reasons": [r | some r in reasons]}
`;

/** Denies everything with one recognisable reason: the "other" bundle of the reload tests. */
export const FROZEN_REGO = `package maestro.main

import rego.v1

decision := {
	"allow": false,
	"requires_approval": false,
	"approval": {"count": 0, "roles": []},
	"reasons": ["bundle_frozen: all actions are frozen"],
	"warnings": [],
}
`;

/** Always answers with the wrong shape: fails the smoke evaluation of a load. */
export const MALFORMED_REGO = `package maestro.main

decision := {"allow": "yes"}
`;

export interface BuildOptions {
  files: Record<string, string>;
  revision: string;
  entrypoints?: string[];
  data?: unknown;
}

/** Writes the sources under dir/name-src and compiles them to dir/name.tar.gz. */
export async function buildBundle(dir: string, name: string, options: BuildOptions): Promise<string> {
  const src = join(dir, `${name}-src`);
  await mkdir(src, { recursive: true });
  for (const [file, text] of Object.entries(options.files)) {
    await mkdir(dirname(join(src, file)), { recursive: true });
    await writeFile(join(src, file), text);
  }
  await writeFile(join(src, 'data.json'), JSON.stringify(options.data ?? DATA));
  const out = join(dir, `${name}.tar.gz`);
  const entrypoints = (options.entrypoints ?? BOTH_ENTRYPOINTS).flatMap((e) => ['-e', e]);
  await run(
    OPA_BIN,
    ['build', '-t', 'wasm', ...entrypoints, '--revision', options.revision, '-o', out, '.'],
    {
      cwd: src,
    },
  );
  return out;
}

/** A gzip'd tar of the given files (for bundles opa would never build). */
export async function tarGz(files: Record<string, string | Uint8Array>): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    archive.on('data', (c: unknown) => chunks.push(c as Buffer));
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const [name, body] of Object.entries(files)) archive.entry({ name }, Buffer.from(body));
  archive.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface OpaServer {
  url: string;
  stop(): Promise<void>;
}

/** `opa run --server` on a free port with the given paths; resolves once /health answers 200. */
export async function startOpaServer(paths: string[]): Promise<OpaServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    OPA_BIN,
    ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', ...paths],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`opa exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
      if (res.status === 200) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`opa did not become healthy on ${url}: ${stderr}`);
}
