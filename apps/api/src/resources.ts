import type { PrismaClient } from '@maestro/db';
import type { Graph } from '@maestro/graph';
import type { PolicyPackInfo, WasmPolicy } from '@maestro/policy';
import type { Producer } from '@maestro/queue';
import type { Logger } from 'pino';
import type { TokenVerifier } from './auth.ts';

/** Everything a request may touch, wired once in api-instance.ts (ports and adapters). */
export interface ApiResources {
  graph: Graph;
  db: PrismaClient;
  queue: Producer;
  policy: WasmPolicy;
  policyPacks: PolicyPackInfo[];
  verifyToken: TokenVerifier;
  logger: Logger;
  clock: () => Date;
}
