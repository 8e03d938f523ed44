import { builder } from '../builder.ts';

// The root types; every other file adds its fields with queryField(s) / mutationField(s).
builder.queryType({});
builder.mutationType({});
