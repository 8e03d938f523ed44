import { kindOfId } from '@maestro/domain';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';

/** Type names of Node implementations by id kind (ids carry their kind as a prefix). */
const TYPE_OF_KIND: Record<string, string> = {
  Tenant: 'Tenant',
  Workflow: 'Workflow',
  WorkflowVersion: 'WorkflowVersion',
  Run: 'Run',
  Task: 'Task',
  Schedule: 'Schedule',
  Approval: 'Approval',
  PolicyDecision: 'PolicyDecision',
};

export const NodeRef = builder.interfaceRef<{ id: string }>('Node').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
  resolveType: (value) => TYPE_OF_KIND[kindOfId(value.id) ?? ''] ?? null,
});

type NodeResolver = (id: string, ctx: Context) => Promise<{ id: string } | null>;
const resolvers = new Map<string, NodeResolver>();

/** Each type file registers how `node(id)` finds its kind, always within the caller's scope. */
export function registerNode(kind: string, resolve: NodeResolver): void {
  resolvers.set(kind, resolve);
}

builder.queryField('node', (t) =>
  t.field({
    type: NodeRef,
    nullable: true,
    authScopes: { can: 'read' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const kind = kindOfId(String(id));
      const resolve = kind ? resolvers.get(kind) : undefined;
      return resolve ? resolve(String(id), ctx) : null;
    },
  }),
);
