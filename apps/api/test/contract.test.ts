import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@maestro/testing';
import { buildSchema, findBreakingChanges } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printServedSchema, schema } from '../src/schema.ts';

// The contract is a fixed promise to integrators: the served schema may add, never break.
const contractPath = join(REPO_ROOT, '../shared/contract/schema.graphql');

describe('served schema vs the contract', () => {
  it('has no breaking change against ../shared/contract/schema.graphql', () => {
    const contract = buildSchema(readFileSync(contractPath, 'utf8'));
    const breaking = findBreakingChanges(contract, schema).map((c) => `${c.type}: ${c.description}`);
    expect(breaking).toEqual([]);
  });

  it('is printed to graph-schema/schema.graphql (regenerate with npm run print-schema -w @maestro/api)', () => {
    expect(readFileSync(join(REPO_ROOT, 'graph-schema/schema.graphql'), 'utf8')).toBe(printServedSchema());
  });
});
