#!/usr/bin/env node
import { Command } from 'commander';
import { CliError, type ClientOptions, graphql } from './client.ts';
import { loadCliEnv } from './env.ts';

const env = loadCliEnv();
const program = new Command('maestro')
  .description('Maestro Conductor command line')
  .option('--api <url>', 'API base URL', env.MAESTRO_API_URL)
  .option('--token <jwt>', 'bearer token (or MAESTRO_TOKEN)', env.MAESTRO_TOKEN)
  .option('-e, --environment <env>', 'environment scope', env.MAESTRO_ENVIRONMENT)
  .option('-r, --region <region>', 'region scope', env.MAESTRO_REGION);

function clientOptions(): ClientOptions {
  const o = program.opts<{ api: string; token?: string; environment: string; region: string }>();
  return { apiUrl: o.api, token: o.token, environment: o.environment, region: o.region };
}

program
  .command('whoami')
  .description('show who you are in the current scope, with quota and budget')
  .action(async () => {
    const data = await graphql<{ whoami: unknown }>(
      clientOptions(),
      '{ whoami { subject roles tenant { id name } environment region quota { maxConcurrent inUse } budget { dailyMaxUSD spentUSD remainingUSD warning } } }',
    );
    console.log(JSON.stringify(data.whoami, null, 2));
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CliError) {
    console.error(`maestro: ${error.code}: ${error.message}`);
  } else {
    console.error(`maestro: ${(error as Error).message}`);
  }
  process.exit(1);
});
