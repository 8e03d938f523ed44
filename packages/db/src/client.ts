import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type { PrismaClient } from './generated/prisma/client.ts';

export interface CreatePrismaClientOptions {
  /** postgresql:// connection URL. Packages never read process.env; the caller passes it in. */
  databaseUrl: string;
  /** Maximum connections in the adapter's pg pool (pg's default is 10). */
  poolSize?: number;
}

/**
 * A Prisma client over the Rust-free query compiler and `@prisma/adapter-pg`.
 * Call `$disconnect()` when done: it ends the adapter's pool.
 */
export function createPrismaClient(options: CreatePrismaClientOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.databaseUrl,
    ...(options.poolSize === undefined ? {} : { max: options.poolSize }),
  });
  return new PrismaClient({ adapter });
}
