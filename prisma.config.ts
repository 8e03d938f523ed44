// Prisma 7 configuration (the datasource URL no longer lives in schema.prisma).
//
// Migrations are hand-written SQL applied by packages/db/src/migrate.ts, not by
// `prisma migrate` (the schema engine cannot be downloaded here); see
// docs/adr/0002-prisma-offline-migrations.md.
import { defineConfig } from 'prisma/config';

// `env('DATABASE_URL')` from 'prisma/config' throws when the variable is unset,
// which would break `prisma generate` on machines without a database. Fall back
// to the local services default instead (generate never connects).
const LOCAL_DEFAULT_URL = 'postgresql://maestro:maestro@127.0.0.1:5433/maestro';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  datasource: {
    url: process.env.DATABASE_URL || LOCAL_DEFAULT_URL,
  },
});
