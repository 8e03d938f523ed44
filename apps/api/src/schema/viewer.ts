import { countActiveRuns } from '@maestro/graph';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { NodeRef, registerNode } from './node.ts';

type TenantShape = Context['tenant'];

export const TenantRef = builder.objectRef<TenantShape>('Tenant').implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
  }),
});

const QuotaRef = builder.objectRef<{ maxConcurrent: number; inUse: number }>('Quota').implement({
  fields: (t) => ({
    maxConcurrent: t.exposeInt('maxConcurrent'),
    inUse: t.exposeInt('inUse'),
  }),
});

const BudgetRef = builder
  .objectRef<{ dailyMaxUSD: number; spentUSD: number; remainingUSD: number; warning: boolean }>('Budget')
  .implement({
    fields: (t) => ({
      dailyMaxUSD: t.exposeFloat('dailyMaxUSD'),
      spentUSD: t.exposeFloat('spentUSD'),
      remainingUSD: t.exposeFloat('remainingUSD'),
      warning: t.exposeBoolean('warning', {
        description: "True once spend has crossed the tenant's warning threshold (80% by default).",
      }),
    }),
  });

const ViewerRef = builder.objectRef<Context>('Viewer').implement({
  fields: (t) => ({
    subject: t.string({ resolve: (ctx) => ctx.actor.subject }),
    roles: t.stringList({ resolve: (ctx) => ctx.actor.roles }),
    tenant: t.field({ type: TenantRef, resolve: (ctx) => ctx.tenant }),
    environment: t.string({ resolve: (ctx) => ctx.scope.environment }),
    region: t.string({ resolve: (ctx) => ctx.scope.region }),
    quota: t.field({
      type: QuotaRef,
      resolve: async (ctx) => ({
        maxConcurrent: ctx.tenant.maxConcurrentRuns,
        inUse: await countActiveRuns(ctx.resources.graph, ctx.scope),
      }),
    }),
    budget: t.field({
      type: BudgetRef,
      // Spend is recorded by the engine (spend ledger); until a run has cost anything it is 0.
      resolve: (ctx) => {
        const dailyMaxUSD = Number(ctx.tenant.dailyBudgetUsd);
        const spentUSD = 0;
        return {
          dailyMaxUSD,
          spentUSD,
          remainingUSD: Math.max(0, dailyMaxUSD - spentUSD),
          warning: spentUSD >= dailyMaxUSD * Number(ctx.tenant.alertThreshold),
        };
      },
    }),
  }),
});

builder.queryField('whoami', (t) =>
  t.field({
    type: ViewerRef,
    authScopes: { can: 'read' },
    resolve: (_root, _args, ctx) => ctx,
  }),
);

registerNode('Tenant', async (id, ctx) => (id === ctx.tenant.id ? ctx.tenant : null));
