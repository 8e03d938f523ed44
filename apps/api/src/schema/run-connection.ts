import { countRuns, listRuns, RUN_STATUSES, type RunFilter, type RunRecord } from '@maestro/graph';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { PageInfoRef } from './common.ts';
import { RunConnectionRef, type RunConnectionShape, RunRef } from './refs.ts';

export const RunStatusEnum = builder.enumType('RunStatus', { values: RUN_STATUSES });

export const RunFilterInput = builder.inputType('RunFilter', {
  fields: (t) => ({
    status: t.field({ type: [RunStatusEnum], required: false }),
    workflow: t.string({ required: false }),
    environment: t.string({ required: false }),
    createdAfter: t.field({ type: 'DateTime', required: false }),
    createdBefore: t.field({ type: 'DateTime', required: false }),
  }),
});

type RunFilterArg =
  | {
      status?: (typeof RUN_STATUSES)[number][] | null;
      workflow?: string | null;
      environment?: string | null;
      createdAfter?: Date | null;
      createdBefore?: Date | null;
    }
  | null
  | undefined;

export function toRunFilter(filter: RunFilterArg): RunFilter {
  return { ...(filter ?? {}) };
}

/**
 * A page of runs confined to the caller's scope. The filter's total is counted only when the
 * query selects `totalCount` (a count reads every match; a page reads `first + 1`).
 */
export async function runConnection(
  ctx: Context,
  filter: RunFilter,
  args: { first?: number | null; after?: string | null },
): Promise<RunConnectionShape> {
  const page = await listRuns(ctx.resources.graph, ctx.scope, filter, args.first, args.after);
  for (const { node } of page.items) ctx.loaders.run.prime(node.id, node);
  return {
    edges: page.items,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    totalCount: (upTo) => countRuns(ctx.resources.graph, ctx.scope, filter, { upTo }),
  };
}

const RunEdgeRef = builder.objectRef<{ cursor: string; node: RunRecord }>('RunEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    node: t.field({ type: RunRef, resolve: (e) => e.node }),
  }),
});

RunConnectionRef.implement({
  fields: (t) => ({
    edges: t.field({ type: [RunEdgeRef], resolve: (c) => c.edges }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
    totalCount: t.int({
      description:
        'Runs matching the filter. With `upTo`, counting stops there: a value equal to `upTo` means "upTo or more" ' +
        '(cheap for a "1,000+" badge; without it every match is counted).',
      args: { upTo: t.arg.int({ required: false }) },
      resolve: (c, args) => c.totalCount(args.upTo),
    }),
  }),
});

builder.queryField('runs', (t) =>
  t.field({
    type: RunConnectionRef,
    authScopes: { can: 'read' },
    args: {
      filter: t.arg({ type: RunFilterInput, required: false }),
      first: t.arg.int({ required: false, defaultValue: 20 }),
      after: t.arg.string({ required: false }),
    },
    resolve: (_root, args, ctx) => runConnection(ctx, toRunFilter(args.filter), args),
  }),
);
