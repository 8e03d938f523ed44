import { latestVersion } from '@maestro/control';
import { listVersionsOf, listWorkflows, type WorkflowRecord } from '@maestro/graph';
import { builder } from '../builder.ts';
import { ActorRef, PageInfoRef } from './common.ts';
import { NodeRef, registerNode } from './node.ts';
import { type Connection, RunConnectionRef, WorkflowRef, WorkflowVersionRef } from './refs.ts';
import { RunFilterInput, runConnection, toRunFilter } from './run-connection.ts';

WorkflowVersionRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    version: t.exposeString('version'),
    digest: t.exposeString('digest', {
      description: 'sha256 of the canonical JSON form of the manifest, hex.',
    }),
    manifest: t.field({ type: 'JSON', resolve: (v) => v.manifest }),
    publishedAt: t.field({ type: 'DateTime', resolve: (v) => v.publishedAt }),
    publishedBy: t.field({
      type: ActorRef,
      resolve: (v) => ({ subject: v.publishedBy, roles: v.publishedByRoles }),
    }),
  }),
});

WorkflowRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    latestVersion: t.field({
      type: WorkflowVersionRef,
      nullable: true,
      resolve: async (w, _args, ctx) =>
        latestVersion(await listVersionsOf(ctx.resources.graph, ctx.scope, w.name)),
    }),
    versions: t.field({
      type: [WorkflowVersionRef],
      resolve: (w, _args, ctx) => listVersionsOf(ctx.resources.graph, ctx.scope, w.name),
    }),
    runs: t.field({
      type: RunConnectionRef,
      args: {
        filter: t.arg({ type: RunFilterInput, required: false }),
        first: t.arg.int({ required: false, defaultValue: 20 }),
        after: t.arg.string({ required: false }),
      },
      resolve: (w, args, ctx) => runConnection(ctx, { ...toRunFilter(args.filter), workflow: w.name }, args),
    }),
  }),
});

const WorkflowEdgeRef = builder
  .objectRef<{ cursor: string; node: WorkflowRecord }>('WorkflowEdge')
  .implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      node: t.field({ type: WorkflowRef, resolve: (e) => e.node }),
    }),
  });

const WorkflowConnectionRef = builder.objectRef<Connection<WorkflowRecord>>('WorkflowConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [WorkflowEdgeRef], resolve: (c) => c.edges }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
  }),
});

builder.queryFields((t) => ({
  workflows: t.field({
    type: WorkflowConnectionRef,
    authScopes: { can: 'read' },
    args: {
      first: t.arg.int({ required: false, defaultValue: 20 }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const page = await listWorkflows(ctx.resources.graph, ctx.scope, args.first, args.after);
      return { edges: page.items, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    },
  }),
  workflow: t.field({
    type: WorkflowRef,
    nullable: true,
    authScopes: { can: 'read' },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, ctx) => ctx.loaders.workflowByName.load(name),
  }),
}));

registerNode('Workflow', (id, ctx) => ctx.loaders.workflowById.load(id));
registerNode('WorkflowVersion', (id, ctx) => ctx.loaders.version.load(id));
