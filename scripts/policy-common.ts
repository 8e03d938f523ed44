// Shared by scripts/policy-simulate.ts and scripts/policy-docs.ts: where the policy profiles
// live, their compiled bundles, the packs' `# METADATA` annotations (from `opa inspect`), and
// the decision document of `maestro/main/decision`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';

export const ROOT = join(import.meta.dirname, '..');
export const BUNDLES = join(ROOT, 'policy-bundles');
export const PROFILES = ['internal', 'hosted-saas'] as const;
export type Profile = (typeof PROFILES)[number];
export const MAIN_ENTRYPOINT = 'maestro/main/decision';
export const LEGACY_ENTRYPOINT = 'maestro/authz/decision';

/** The codes a reason may start with (`<code>: <sentence>`), per the engine contract. */
export const REASON_CODES = [
  'rbac_denied',
  'residency_mismatch',
  'quota_exceeded',
  'budget_exceeded',
  'approval_denied',
  'egress_denied',
  'model_denied',
  'data_class_denied',
  'environment_isolation',
  'no_rule',
] as const;

export interface Decision {
  allow: boolean;
  requires_approval: boolean;
  approval: { count: number; roles: string[] };
  reasons: string[];
  warnings: string[];
}

export function isProfile(value: string): value is Profile {
  return (PROFILES as readonly string[]).includes(value);
}

export function opaBinary(): string {
  const bin = process.env.OPA_BIN ?? join(ROOT, '.maestro/bin/opa');
  if (!existsSync(bin)) throw new Error(`opa CLI not found at ${bin}; run scripts/services.sh up opa`);
  return bin;
}

/** The code of a reason or warning: the text before the first ": ". */
export function codeOf(message: string): string {
  const at = message.indexOf(': ');
  return at < 0 ? '' : message.slice(0, at);
}

/** Problems with a `maestro/main/decision` result; [] when it follows the contract. */
export function contractProblems(result: unknown): string[] {
  const d = result as Partial<Decision> | undefined;
  if (!d || typeof d !== 'object') return ['the decision is undefined'];
  const problems: string[] = [];
  if (typeof d.allow !== 'boolean') problems.push('allow is not a boolean');
  if (typeof d.requires_approval !== 'boolean') problems.push('requires_approval is not a boolean');
  if (!d.approval || typeof d.approval.count !== 'number' || !Array.isArray(d.approval.roles))
    problems.push('approval is not {count, roles}');
  if (!Array.isArray(d.reasons)) problems.push('reasons is not an array');
  if (!Array.isArray(d.warnings)) problems.push('warnings is not an array');
  if (problems.length > 0) return problems;
  const codes: readonly string[] = REASON_CODES;
  for (const r of d.reasons ?? []) if (!codes.includes(codeOf(r))) problems.push(`uncoded reason "${r}"`);
  for (const w of d.warnings ?? []) if (!/^[a-z_]+$/.test(codeOf(w))) problems.push(`uncoded warning "${w}"`);
  if (d.allow && (d.reasons ?? []).length > 0) problems.push('allowed with reasons');
  if (!d.allow && (d.reasons ?? []).length === 0) problems.push('denied without a reason');
  if (d.requires_approval && !d.allow) problems.push('requires approval but is denied');
  if (d.requires_approval !== (d.approval?.count ?? 0) > 0)
    problems.push('requires_approval disagrees with approval.count');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Compiled bundles
// ---------------------------------------------------------------------------------------------

export interface LoadedBundle {
  profile: string;
  path: string;
  revision: string;
  digest: string;
  entrypoints: string[];
  policy: LoadedPolicy;
  /** Evaluates one entrypoint; undefined when the result set is empty. */
  evaluate(input: unknown, entrypoint?: string): unknown;
}

/** The files of a .tar.gz (ustar, as `opa build` writes it), by name without a leading "/". */
export function untar(gz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(gz);
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const text = (from: number, to: number) =>
      header
        .subarray(from, to)
        .toString('utf8')
        .replace(/\0[\s\S]*$/, '');
    const size = Number.parseInt(text(124, 136).trim() || '0', 8);
    const prefix = text(345, 500);
    const name = (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100)).replace(/^\/+/, '');
    const type = text(156, 157);
    if (type === '0' || type === '') files.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Loads a compiled wasm bundle (policy.wasm, data.json, .manifest) once, ready to evaluate. */
export async function loadBundle(path: string, profile: string): Promise<LoadedBundle> {
  const bytes = readFileSync(path);
  const files = untar(bytes);
  const wasm = files.get('policy.wasm');
  if (!wasm) throw new Error(`${path} has no policy.wasm (was it built with opa build -t wasm?)`);
  const manifest = JSON.parse(files.get('.manifest')?.toString('utf8') ?? '{}') as {
    revision?: string;
    wasm?: Array<{ entrypoint: string }>;
  };
  const policy = await loadPolicy(wasm);
  policy.setData(JSON.parse(files.get('data.json')?.toString('utf8') ?? '{}') as object);
  return {
    profile,
    path,
    revision: manifest.revision ?? 'unknown',
    digest: createHash('sha256').update(bytes).digest('hex'),
    entrypoints: (manifest.wasm ?? []).map((w) => w.entrypoint),
    policy,
    evaluate(input, entrypoint = MAIN_ENTRYPOINT) {
      const resultSet = policy.evaluate(input, entrypoint) as Array<{ result?: unknown }>;
      return resultSet[0]?.result;
    },
  };
}

export function bundlePath(profile: string, dir = join(BUNDLES, 'build')): string {
  return join(dir, `${profile}.tar.gz`);
}

// ---------------------------------------------------------------------------------------------
// Packs and their annotations
// ---------------------------------------------------------------------------------------------

export interface PackExample {
  name?: string;
  input: unknown;
  allow?: boolean;
  deny?: boolean;
  reason_code?: string;
  requires_approval?: boolean;
  approval_count?: number;
  warning_code?: string;
  /** Restricts the example to these profiles (default: every profile carrying the pack). */
  profiles?: string[];
}

export interface Pack {
  /** The package path without "data.", e.g. "maestro.packs.budget". */
  id: string;
  /** The last path segment: the catalog page is docs/policy/<slug>.md. */
  slug: string;
  title: string;
  description: string;
  examples: PackExample[];
  /** The source file, relative to the repository root. */
  file: string;
  /** The profiles whose bundle carries the pack. */
  profiles: Profile[];
}

interface InspectAnnotation {
  path: Array<{ value: string }>;
  annotations?: {
    scope?: string;
    title?: string;
    description?: string;
    custom?: { examples?: PackExample[] };
  };
  location?: { file?: string };
}

function inspect(dir: string): InspectAnnotation[] {
  const out = execFileSync(opaBinary(), ['inspect', '-a', '--format', 'json', dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out) as { annotations?: InspectAnnotation[] }).annotations ?? [];
}

/**
 * The packs (packages with a titled `# METADATA` block) of lib/ and of each profile directory.
 * A lib pack is carried by every profile; a profile directory's pack by that profile only.
 */
export function loadPacks(): Pack[] {
  const packs = new Map<string, Pack>();
  const sources: Array<[dir: string, profiles: Profile[]]> = [
    ['lib', [...PROFILES]],
    ...PROFILES.map((p): [string, Profile[]] => [p, [p]]),
  ];
  for (const [dir, profiles] of sources) {
    for (const a of inspect(join(BUNDLES, dir))) {
      const meta = a.annotations;
      if (meta?.scope !== 'package' || !meta.title) continue;
      const id = a.path
        .slice(1)
        .map((p) => p.value)
        .join('.');
      const file = a.location?.file ?? '';
      const known = packs.get(id);
      if (known) {
        for (const p of profiles) if (!known.profiles.includes(p)) known.profiles.push(p);
        continue;
      }
      packs.set(id, {
        id,
        slug: id.split('.').at(-1) ?? id,
        title: meta.title,
        description: (meta.description ?? '').trim(),
        examples: meta.custom?.examples ?? [],
        file: relative(ROOT, file.startsWith('/') ? file : join(BUNDLES, dir, file)),
        profiles: [...profiles],
      });
    }
  }
  return [...packs.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** A profile's settings (data.json `maestro.config`). */
export function profileConfig(profile: Profile): Record<string, unknown> {
  const data = JSON.parse(readFileSync(join(BUNDLES, profile, 'data.json'), 'utf8')) as {
    maestro?: { config?: Record<string, unknown> };
  };
  return data.maestro?.config ?? {};
}

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

/** What a scenario or example expects of one profile's decision. */
export interface Expectation {
  allow: boolean;
  requires_approval?: boolean;
  approval_count?: number;
  approval_roles?: string[];
  reason_code?: string;
  warning_code?: string | null;
}

/** Mismatches between a decision and an expectation; [] when it matches. */
export function mismatches(d: Decision, e: Expectation): string[] {
  const out: string[] = [];
  if (d.allow !== e.allow)
    out.push(`expected ${e.allow ? 'allow' : 'deny'}, got ${d.allow ? 'allow' : 'deny'}`);
  if (e.requires_approval !== undefined && d.requires_approval !== e.requires_approval)
    out.push(`expected requires_approval ${e.requires_approval}, got ${d.requires_approval}`);
  if (e.approval_count !== undefined && d.approval.count !== e.approval_count)
    out.push(`expected ${e.approval_count} approval(s), got ${d.approval.count}`);
  if (e.approval_roles !== undefined && [...e.approval_roles].sort().join() !== [...d.approval.roles].join())
    out.push(`expected approval roles ${e.approval_roles.join(', ')}, got ${d.approval.roles.join(', ')}`);
  if (e.reason_code !== undefined && !d.reasons.some((r) => codeOf(r) === e.reason_code))
    out.push(`expected reason ${e.reason_code}, got ${d.reasons.map(codeOf).join(', ') || 'none'}`);
  if (e.warning_code === null && d.warnings.length > 0)
    out.push(`expected no warning, got ${d.warnings.map(codeOf).join(', ')}`);
  if (typeof e.warning_code === 'string' && !d.warnings.some((w) => codeOf(w) === e.warning_code))
    out.push(`expected warning ${e.warning_code}, got ${d.warnings.map(codeOf).join(', ') || 'none'}`);
  return out;
}

/** "allow", "allow (2 approvals)", "deny budget_exceeded", ... */
export function summarize(d: Decision): string {
  if (!d.allow) return `deny ${[...new Set(d.reasons.map(codeOf))].join('+')}`;
  const parts = ['allow'];
  if (d.requires_approval) parts.push(`(${d.approval.count} approval${d.approval.count === 1 ? '' : 's'})`);
  if (d.warnings.length > 0) parts.push(`[${[...new Set(d.warnings.map(codeOf))].join(', ')}]`);
  return parts.join(' ');
}

export function describeExpectation(e: Expectation): string {
  if (!e.allow) return `deny ${e.reason_code ?? ''}`.trim();
  const parts = ['allow'];
  if (e.approval_count !== undefined && e.approval_count > 0) parts.push(`(${e.approval_count} approvals)`);
  else if (e.requires_approval) parts.push('(approval)');
  if (typeof e.warning_code === 'string') parts.push(`[${e.warning_code}]`);
  return parts.join(' ');
}
