// Writes the served schema as SDL to graph-schema/schema.graphql (npm run print-schema -w @maestro/api).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printServedSchema } from './schema.ts';

const target = join(dirname(fileURLToPath(import.meta.url)), '../../../graph-schema/schema.graphql');
writeFileSync(target, printServedSchema());
console.log(`api: wrote ${target}`);
