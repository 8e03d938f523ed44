import { z } from 'zod';

/** The CLI's configuration: the one place it reads process.env (flags override it). */
const schema = z.object({
  MAESTRO_API_URL: z.string().url().default('http://127.0.0.1:4000'),
  MAESTRO_TOKEN: z.string().optional(),
  MAESTRO_ENVIRONMENT: z.string().default('dev'),
  MAESTRO_REGION: z.string().default('EU'),
});

export type CliEnv = z.infer<typeof schema>;

export function loadCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return schema.parse(env);
}
