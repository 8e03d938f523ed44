import { describe, expect, it } from 'vitest';
import { estimateRun } from './cost.ts';
import type { Manifest } from './manifest/types.ts';

const manifest: Manifest = {
  name: 'w',
  version: '1.0.0',
  params: { targets: { type: 'array', items: { type: 'string' } } },
  steps: [
    { id: 'plan', uses: 'core.echo', with: { message: 'x' } },
    { id: 'build', uses: 'exec.command', foreach: '${{ params.targets }}', with: { argv: ['true'] } },
    { id: 'summarise', uses: 'llm.generate', with: { model: 'gpt-4o', max_tokens: 2000 } },
    { id: 'custom', uses: 'acme.thing' },
  ],
};

describe('run cost estimate', () => {
  it('prices steps by type, fans out foreach by the param, prices LLM tokens by model', () => {
    const { tasks, totalUSD } = estimateRun(manifest, { targets: ['a', 'b', 'c'] });
    expect(tasks).toEqual([
      { stepId: 'plan', uses: 'core.echo', estimatedCostUSD: 0 },
      { stepId: 'build', uses: 'exec.command', estimatedCostUSD: 0.003 },
      { stepId: 'summarise', uses: 'llm.generate', estimatedCostUSD: 0.02 },
      { stepId: 'custom', uses: 'acme.thing', estimatedCostUSD: 0.001 },
    ]);
    expect(totalUSD).toBe(0.024);
  });

  it('prices unknown models conservatively', () => {
    const m: Manifest = {
      ...manifest,
      steps: [{ id: 'x', uses: 'llm.generate', with: { model: 'mystery', max_tokens: 1000 } }],
    };
    expect(estimateRun(m, {}).totalUSD).toBe(0.03);
  });
});
