import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import './schema/index.ts';

export const schema = builder.toSchema();

/** The served schema as SDL, written to graph-schema/schema.graphql. */
export function printServedSchema(): string {
  return printSchema(lexicographicSortSchema(schema));
}
