import { BUILTIN_STEP_TYPES } from '@maestro/domain';
import { describe, expect, it } from 'vitest';
import { coreEcho } from './core-echo.ts';
import { builtinSteps } from './index.ts';
import { createStepRegistry } from './registry.ts';
import { StepError } from './step-error.ts';
import { executeStep } from './step-type.ts';
import { stepFailure } from './test-support.ts';
import { testStepContext } from './testing.ts';

describe('step registry', () => {
  const registry = createStepRegistry(builtinSteps());

  it('holds exactly the built-in step types the manifest accepts', () => {
    expect(registry.names()).toEqual([...BUILTIN_STEP_TYPES].sort());
    expect(registry.get('core.echo')).toBe(coreEcho);
    expect(registry.has('http.request')).toBe(true);
  });

  it('answers an unknown type with undefined, or a fatal UNKNOWN_STEP_TYPE from require', () => {
    expect(registry.get('core.nope')).toBeUndefined();
    expect(registry.has('core.nope')).toBe(false);
    let thrown: unknown;
    try {
      registry.require('core.nope');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StepError);
    expect(thrown).toMatchObject({ code: 'UNKNOWN_STEP_TYPE', retryable: false });
  });

  it('refuses two types with one name', () => {
    expect(() => createStepRegistry([coreEcho, coreEcho])).toThrow(/registered twice/);
  });

  it('fails llm.generate as NOT_CONFIGURED when the worker has no LLM endpoint', async () => {
    const error = await stepFailure(
      executeStep(registry.require('llm.generate'), { model: 'm', prompt: 'p' }, testStepContext()),
    );
    expect(error).toMatchObject({ code: 'NOT_CONFIGURED', retryable: false });
  });
});
