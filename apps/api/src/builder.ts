import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { Context } from './context.ts';

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
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    treatErrorsAsUnauthorized: true,
    authScopes: (context) => ({
      can: (action) =>
        context.resources.policy.evaluate({ action, actor: context.actor, tenant: context.scope }).allow,
    }),
  },
});
