import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from './digest.ts';

/** What `canonicalize` (v4, the reference) gives for a value: its text, or its error. */
function reference(value: unknown): { text: string } | { error: string } {
  try {
    const text = canonicalize(value);
    if (text === undefined) throw new TypeError('value has no JSON representation');
    return { text };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function ours(value: unknown): { text: string } | { error: string } {
  try {
    return { text: canonicalJson(value) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

describe('canonical digest', () => {
  it('ignores key order and whitespace but not values', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(digestOf({ b: 1, a: 2 })).toBe(digestOf({ a: 2, b: 1 }));
    expect(digestOf({ a: 2 })).not.toBe(digestOf({ a: 3 }));
    expect(digestOf({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow('NaN is not allowed');
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow('Infinity is not allowed');
    expect(() => canonicalJson({ '\ud800': 1 })).toThrow('Lone surrogate is not allowed');
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = { loop };
    expect(() => canonicalJson(loop)).toThrow('Circular reference detected');
  });

  it('gives the bytes of the canonicalize package, errors included', () => {
    const shared = { x: 1 };
    const cases: unknown[] = [
      null,
      true,
      0,
      -0,
      1e21,
      1e-7,
      0.1 + 0.2,
      -5e-324,
      'é \u2028 \u0000 "\\',
      '😀',
      '\udc00x',
      [undefined, () => 1, Symbol('s'), 1],
      // biome-ignore lint/suspicious/noSparseArray: v4 quirk on holes
      [, 1, , 2],
      { f: () => 1, u: undefined, s: Symbol('s'), n: null },
      { b: [shared, shared], a: shared },
      { d: new Date(0), nested: { toJSON: () => ({ z: 1, y: [2] }) } },
      { toJSON: () => undefined },
      { big: 1n },
      { é: 1, e: 2, E: 3, '😀': 4, '\uff21': 5, '': 6, 10: 7, 9: 8 },
      Object.assign(Object.create(null), { b: 1, a: 2 }),
      new Map([['a', 1]]),
    ];
    for (const value of cases) expect(ours(value)).toEqual(reference(value));
  });

  it('matches canonicalize on generated values', () => {
    const strings = fc.oneof(fc.string(), fc.fullUnicodeString(), fc.string16bits());
    const value = fc.anything({
      key: strings,
      values: [
        strings,
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.date({ noInvalidDate: true }),
      ],
      withObjectString: true,
      withNullPrototype: true,
      withSparseArray: true,
    });
    fc.assert(
      fc.property(value, (v) => {
        expect(ours(v)).toEqual(reference(v));
      }),
      { numRuns: 2000 },
    );
  });
});
