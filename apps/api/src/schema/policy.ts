import { getDecisions, listDecisions, type PolicyDecisionRecord } from '@maestro/graph';
import type { PolicyPackInfo } from '@maestro/policy';
import { builder } from '../builder.ts';
import { ActorRef, PageInfoRef } from './common.ts';
import { NodeRef, registerNode } from './node.ts';
import type { Connection } from './refs.ts';

const PolicyBundleRefRef = builder
  .objectRef<{ profile: string; revision: string; digest: string }>('PolicyBundleRef')
  .implement({
    fields: (t) => ({
      profile: t.exposeString('profile', { description: 'internal | hosted-saas' }),
      revision: t.exposeString('revision'),
      digest: t.exposeString('digest', { description: 'sha256 of the compiled bundle, hex.' }),
    }),
  });

export const PolicyDecisionRef = builder.objectRef<PolicyDecisionRecord>('PolicyDecision').implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    action: t.exposeString('action'),
    allow: t.exposeBoolean('allow'),
    requiresApproval: t.exposeBoolean('requiresApproval'),
    reasons: t.exposeStringList('reasons'),
    bundle: t.field({
      type: PolicyBundleRefRef,
      resolve: (d) => ({ profile: d.bundleProfile, revision: d.bundleRevision, digest: d.bundleDigest }),
    }),
    inputDigest: t.exposeString('inputDigest', {
      description: 'sha256 of the canonical JSON policy input, hex.',
    }),
    actor: t.field({ type: ActorRef, resolve: (d) => ({ subject: d.actor, roles: d.actorRoles }) }),
    subjectId: t.exposeID('subjectId', { nullable: true }),
    evaluatedAt: t.field({ type: 'DateTime', resolve: (d) => d.evaluatedAt }),
    latencyMs: t.exposeFloat('latencyMs'),
  }),
});

const PolicyDecisionFilterInput = builder.inputType('PolicyDecisionFilter', {
  fields: (t) => ({
    action: t.string({ required: false }),
    allow: t.boolean({ required: false }),
    subjectId: t.id({ required: false }),
  }),
});

const PolicyDecisionEdgeRef = builder
  .objectRef<{ cursor: string; node: PolicyDecisionRecord }>('PolicyDecisionEdge')
  .implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      node: t.field({ type: PolicyDecisionRef, resolve: (e) => e.node }),
    }),
  });

const PolicyDecisionConnectionRef = builder
  .objectRef<Connection<PolicyDecisionRecord>>('PolicyDecisionConnection')
  .implement({
    fields: (t) => ({
      edges: t.field({ type: [PolicyDecisionEdgeRef], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
    }),
  });

builder.queryField('policyDecisions', (t) =>
  t.field({
    type: PolicyDecisionConnectionRef,
    authScopes: { can: 'read' },
    args: {
      filter: t.arg({ type: PolicyDecisionFilterInput, required: false }),
      first: t.arg.int({ required: false, defaultValue: 20 }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const filter = {
        action: args.filter?.action ?? null,
        allow: args.filter?.allow ?? null,
        subjectId:
          args.filter?.subjectId === undefined || args.filter?.subjectId === null
            ? null
            : String(args.filter.subjectId),
      };
      const page = await listDecisions(ctx.resources.graph, ctx.scope, filter, args.first, args.after);
      return { edges: page.items, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    },
  }),
);

registerNode(
  'PolicyDecision',
  async (id, ctx) => (await getDecisions(ctx.resources.graph, ctx.scope, [id]))[0] ?? null,
);

const PolicyPackRef = builder.objectRef<PolicyPackInfo>('PolicyPack').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    summary: t.exposeString('summary'),
    profile: t.exposeString('profile'),
    revision: t.exposeString('revision'),
    digest: t.exposeString('digest'),
    signature: t.exposeString('signature', {
      description: 'Signature over the digest, base64; verifiable with the key in publicKey.',
    }),
    publicKey: t.exposeString('publicKey'),
  }),
});

builder.queryField('policyPacks', (t) =>
  t.field({
    type: [PolicyPackRef],
    authScopes: { can: 'read' },
    resolve: (_root, _args, ctx) => ctx.resources.policyPacks,
  }),
);
