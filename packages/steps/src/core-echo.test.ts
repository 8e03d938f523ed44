import { describe, expect, it } from 'vitest';
import { coreEcho } from './core-echo.ts';
import { testStepContext } from './testing.ts';

describe('core.echo', () => {
  it('returns its message', async () => {
    expect(await coreEcho.run(coreEcho.input.parse({ message: 'hi' }), testStepContext())).toEqual({
      output: { message: 'hi' },
    });
  });

  it('rejects input without a string message', () => {
    expect(coreEcho.input.safeParse({ message: 42 }).success).toBe(false);
    expect(coreEcho.input.safeParse({}).success).toBe(false);
  });
});
