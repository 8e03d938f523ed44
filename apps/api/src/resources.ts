import type { PrismaClient } from '@maestro/db';
import type { Graph } from '@maestro/graph';
import type { PolicyEngine, PolicyPackInfo } from '@maestro/policy';
import type { Producer } from '@maestro/queue';
import type { Logger } from 'pino';
import type { TokenVerifier } from './auth.ts';

/** Everything a request may touch, wired once in api-instance.ts (ports and adapters). */
export interface ApiResources {
  graph: Graph;
  db: PrismaClient;
  queue: Producer;
  /** The policy decision point (opa-wasm in process, or a remote OPA server). */
  policy: PolicyEngine;
  /** Role checks for scope-auth (`maestro/authz/decision`); never records evidence. */
  authorize(action: string, actor: { subject: string; roles: string[] }): Promise<boolean>;
  policyPacks: PolicyPackInfo[];
  verifyToken: TokenVerifier;
  logger: Logger;
  clock: () => Date;
}
