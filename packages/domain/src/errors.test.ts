import { describe, expect, it } from 'vitest';
import { AppError, isAppError } from './errors.ts';
import { isScopeToken } from './scope.ts';

describe('AppError', () => {
  it('carries a code, a field path and tells user errors from system errors', () => {
    const e = new AppError('VALIDATION', 'bad step id', { field: ['steps', '0', 'id'] });
    expect(e.code).toBe('VALIDATION');
    expect(e.field).toEqual(['steps', '0', 'id']);
    expect(e.isUserError).toBe(true);
    expect(new AppError('SERVICE_UNAVAILABLE', 'neo4j down').isUserError).toBe(false);
    expect(isAppError(e)).toBe(true);
    expect(isAppError(new Error('x'))).toBe(false);
  });
});

describe('scope tokens', () => {
  it('accepts short plain tokens and rejects anything else', () => {
    expect(isScopeToken('prod')).toBe(true);
    expect(isScopeToken('EU')).toBe(true);
    expect(isScopeToken('')).toBe(false);
    expect(isScopeToken('prod\nX-Injected: 1')).toBe(false);
    expect(isScopeToken("dev' OR 1=1")).toBe(false);
    expect(isScopeToken('a'.repeat(64))).toBe(false);
  });
});
