import { createHash } from 'node:crypto';

/**
 * RFC 8785 canonical JSON: the same document always serialises to the same bytes.
 *
 * Byte for byte the output of the `canonicalize` package (v4), which digest.test.ts checks
 * against it on generated values, including its errors (NaN, Infinity, lone surrogates,
 * circular references) and its quirks for values JSON has no form for. Written out because
 * the policy engine canonicalises every decision's input: the package took about 35 µs for the
 * 700-byte input of bench/policy.ts (a Set per object, a per-character surrogate scan, string
 * templates), this about 16 µs.
 */
export function canonicalJson(value: unknown): string {
  const text = serialize(value, []);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** sha256 of the canonical JSON form, hex (manifest digests, policy input digests). */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

const wellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as string & { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/\p{Surrogate}/u.test(s);

/** Characters JSON.stringify escapes (or that may be half of a surrogate pair). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NEEDS_CARE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function serializeString(s: string): string {
  if (!NEEDS_CARE.test(s)) return `"${s}"`;
  if (!wellFormed(s)) throw new Error('Lone surrogate is not allowed');
  return JSON.stringify(s);
}

/** `ancestors`: the objects being serialised around this one (cycle check, like the Set of v4). */
function serialize(value: unknown, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'number':
      if (Number.isNaN(value)) throw new Error('NaN is not allowed');
      if (!Number.isFinite(value)) throw new Error('Infinity is not allowed');
      return String(value); // = JSON.stringify for finite numbers (ECMAScript Number::toString)
    case 'object':
      break;
    default:
      // booleans; and undefined, functions, symbols (no JSON form: undefined), bigints (throw)
      return JSON.stringify(value);
  }
  if (value === null) return 'null';
  if (ancestors.includes(value)) throw new Error('Circular reference detected');
  const object = value as Record<string, unknown> & { toJSON?: unknown };
  ancestors.push(object);
  let out: string | undefined;
  if (typeof object.toJSON === 'function') {
    out = serialize((object.toJSON as () => unknown)(), ancestors);
  } else if (Array.isArray(object)) {
    out = '[';
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out += ',';
      // v4 maps and joins: a hole gives nothing, so does a function (undefined); an undefined
      // or symbol element is null.
      if (!(i in object)) continue;
      const item: unknown = object[i];
      out += item === undefined || typeof item === 'symbol' ? 'null' : (serialize(item, ancestors) ?? '');
    }
    out += ']';
  } else {
    out = '{';
    let first = true;
    for (const key of Object.keys(object).sort()) {
      const item = object[key];
      if (item === undefined || typeof item === 'symbol') continue;
      if (!first) out += ',';
      first = false;
      // v4 interpolates a member with no JSON form (a function) as `undefined`.
      out += `${serializeString(key)}:${serialize(item, ancestors)}`;
    }
    out += '}';
  }
  ancestors.pop();
  return out;
}
