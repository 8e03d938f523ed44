import { describe, expect, it } from 'vitest';
import { coreEcho } from './core-echo.ts';

describe('core.echo', () => {
  const ctx = { signal: new AbortController().signal, idempotencyKey: 'k', attempt: 1 };

  it('returns its message', async () => {
    expect(await coreEcho.run(coreEcho.input.parse({ message: 'hi' }), ctx)).toEqual({ message: 'hi' });
  });

  it('rejects input without a string message', () => {
    expect(coreEcho.input.safeParse({ message: 42 }).success).toBe(false);
    expect(coreEcho.input.safeParse({}).success).toBe(false);
  });
});
