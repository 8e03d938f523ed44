import { fatal } from './step-error.ts';
import type { StepType } from './step-type.ts';

/** The step types a worker can run, by `uses`. */
export interface StepRegistry {
  get(uses: string): StepType | undefined;
  /** Like `get`, but an unknown type is a fatal UNKNOWN_STEP_TYPE StepError. */
  require(uses: string): StepType;
  has(uses: string): boolean;
  /** Registered names, sorted. */
  names(): string[];
}

/** Throws when two step types claim the same `uses`. */
export function createStepRegistry(types: Iterable<StepType>): StepRegistry {
  const byName = new Map<string, StepType>();
  for (const type of types) {
    if (byName.has(type.uses)) throw new Error(`step type ${type.uses} is registered twice`);
    byName.set(type.uses, type);
  }
  return {
    get: (uses) => byName.get(uses),
    require(uses) {
      const type = byName.get(uses);
      if (!type) throw fatal('UNKNOWN_STEP_TYPE', `unknown step type "${uses.slice(0, 100)}"`);
      return type;
    },
    has: (uses) => byName.has(uses),
    names: () => [...byName.keys()].sort(),
  };
}
