import { hash } from 'node:crypto';
import { canonicalJson, newId } from '@maestro/domain';
import type { BundleRef } from './wasm-engine.ts';

/** The decision entrypoint every compiled bundle carries (Data API path `maestro/main/decision`). */
export const MAIN_ENTRYPOINT = 'maestro/main/decision';
/** The role check behind scope-auth (`can`): `{allow, reasons}`. */
export const AUTHZ_ENTRYPOINT = 'maestro/authz/decision';

/** Reason prefix of every fail-closed denial: `pdp_unavailable: <short cause>`. */
export const PDP_UNAVAILABLE = 'pdp_unavailable';

/** Default cap on the canonical JSON of one input: larger inputs are denied unevaluated. */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024;

/**
 * What the policy is asked about. `action` is set by `decide` (it overrides any `action` here);
 * the rest is action-specific facts. Must be JSON.
 */
export interface PolicyInput {
  actor?: { subject?: string; roles?: readonly string[]; [key: string]: unknown };
  tenant?: Record<string, unknown>;
  request?: Record<string, unknown>;
  subject?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ApprovalSpec {
  /** Approvals needed before the action proceeds (≥ 1 when `requiresApproval`). */
  count: number;
  /** Roles whose holders may approve. */
  roles: string[];
}

/** The policy's answer, as `maestro/main/decision` gives it (camel-cased). */
export interface DecisionResult {
  allow: boolean;
  requiresApproval: boolean;
  approval: ApprovalSpec;
  /** Verbatim from the policy; each starts with a code (`budget_exceeded: …`). */
  reasons: string[];
  warnings: string[];
}

/** One decision, with what is needed to keep it as evidence. */
export interface Decision extends DecisionResult {
  /** `pd_<uuid>` */
  id: string;
  bundle: BundleRef;
  /** sha256 of the canonical JSON of the input with its action, hex (= digestOf({...input, action})). */
  inputDigest: string;
  latencyMs: number;
}

/** A result that is not the decision document: the caller denies with `pdp_unavailable`. */
export class MalformedDecisionError extends Error {
  override name = 'MalformedDecisionError';
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Checks a `maestro/main/decision` document and converts it; throws MalformedDecisionError for
 * anything else (a missing or mistyped field, an approval requirement with no approvers).
 */
export function parseDecision(value: unknown): DecisionResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedDecisionError('malformed decision: not an object');
  }
  const d = value as Record<string, unknown>;
  const approval = d.approval as Record<string, unknown> | null | undefined;
  const problems: string[] = [];
  if (typeof d.allow !== 'boolean') problems.push('allow');
  if (typeof d.requires_approval !== 'boolean') problems.push('requires_approval');
  if (typeof approval !== 'object' || approval === null || Array.isArray(approval)) problems.push('approval');
  else {
    const count = approval.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) problems.push('approval.count');
    if (!isStringArray(approval.roles)) problems.push('approval.roles');
    if (d.requires_approval === true && (typeof count !== 'number' || count < 1)) {
      problems.push('approval.count (approval required but no approvals asked for)');
    }
  }
  if (!isStringArray(d.reasons)) problems.push('reasons');
  if (!isStringArray(d.warnings)) problems.push('warnings');
  if (problems.length > 0 || !approval) {
    throw new MalformedDecisionError(`malformed decision: bad ${problems.join(', ')}`);
  }
  return {
    allow: d.allow as boolean,
    requiresApproval: d.requires_approval as boolean,
    approval: { count: approval.count as number, roles: [...(approval.roles as string[])] },
    reasons: [...(d.reasons as string[])],
    warnings: [...(d.warnings as string[])],
  };
}

/** Checks a `maestro/authz/decision` document `{allow, reasons}`. */
export function parseAuthzDecision(value: unknown): { allow: boolean; reasons: string[] } {
  const d = value as { allow?: unknown; reasons?: unknown } | null;
  if (typeof d !== 'object' || d === null || typeof d.allow !== 'boolean' || !isStringArray(d.reasons)) {
    throw new MalformedDecisionError('policy result is not a decision document {allow, reasons}');
  }
  return { allow: d.allow, reasons: [...d.reasons] };
}

/** The fail-closed answer. */
export function unavailable(cause: string): DecisionResult {
  return {
    allow: false,
    requiresApproval: false,
    approval: { count: 0, roles: [] },
    reasons: [`${PDP_UNAVAILABLE}: ${cause}`],
    warnings: [],
  };
}

/** One line, at most 200 characters, from anything thrown (opa-wasm throws bare strings). */
export function shortCause(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'string' ? error : safeString(error);
  const line = (text.split('\n')[0] ?? '').trim() || 'unknown error';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

function safeString(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json;
  } catch {
    return String(value);
  }
}

export interface PreparedInput {
  /** The canonical JSON of `{...input, action}`. */
  json: string;
  /** `json`, UTF-8. */
  bytes: Uint8Array;
  digest: string;
}

const encoder = new TextEncoder();

/**
 * Canonicalises the input with its action once: the bytes are what the policy sees and what
 * the digest is of. Returns a cause string when the input cannot be evaluated.
 */
export function prepareInput(
  action: string,
  input: PolicyInput,
  maxInputBytes: number,
): PreparedInput | { cause: string; digest: string } {
  let canonical: string;
  try {
    canonical = canonicalJson({ ...input, action });
  } catch (error) {
    return { cause: `input is not JSON (${shortCause(error)})`, digest: '' };
  }
  const bytes = encoder.encode(canonical);
  const digest = hash('sha256', bytes, 'hex'); // one-shot: about half the cost of createHash()
  if (bytes.byteLength > maxInputBytes) {
    return { cause: `input too large (${bytes.byteLength} bytes > ${maxInputBytes})`, digest };
  }
  return { json: canonical, bytes, digest };
}

export function makeDecision(
  result: DecisionResult,
  bundle: BundleRef,
  inputDigest: string,
  latencyMs: number,
): Decision {
  return { id: newId('PolicyDecision'), ...result, bundle, inputDigest, latencyMs };
}
