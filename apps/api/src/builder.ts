import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { type Context, platformContextRefusal } from './context.ts';

/**
 * The Pothos builder. Types live in schema/<type>.ts; this file only configures the builder.
 * The one scope, `can: <action>`, is answered by the policy engine so Rego stays the single
 * source of truth for who may do what.
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { can: string };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ComplexityPlugin, ScopeAuthPlugin],
  defaultFieldNullability: false,
  // One request cannot pin the server: selection depth, breadth and estimated cost are capped
  // before any resolver runs (list fields multiply their sub-selection's cost).
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 5,
    limit: { complexity: 5000, depth: 12, breadth: 400 },
    complexityError: (kind, result) => {
      const k = kind.toLowerCase() as 'depth' | 'breadth' | 'complexity';
      const max = { depth: result.maxDepth, breadth: result.maxBreadth, complexity: result.maxComplexity }[k];
      return new GraphQLError(`query ${k} ${result[k]} exceeds the limit of ${max}`, {
        extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
      });
    },
  },
  scopeAuth: {
    treatErrorsAsUnauthorized: true,
    // A platform operator's context has no tenant: say so instead of a bare "not allowed".
    unauthorizedError: (_parent, context) =>
      context.kind === 'platform'
        ? platformContextRefusal()
        : new GraphQLError('not allowed', { extensions: { code: 'FORBIDDEN' } }),
    authScopes: (context) => ({
      can: (action) => context.resources.authorize(action, context.actor),
    }),
  },
});
