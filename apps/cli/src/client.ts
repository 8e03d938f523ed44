/** A small GraphQL client for the maestro CLI: contract headers, coded errors. */
export interface ClientOptions {
  apiUrl: string;
  token: string | undefined;
  environment: string;
  region: string;
}

export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function graphql<T>(options: ClientOptions, query: string, variables?: unknown): Promise<T> {
  if (!options.token) throw new CliError('UNAUTHENTICATED', 'no token: pass --token or set MAESTRO_TOKEN');
  let res: Response;
  try {
    res = await fetch(`${options.apiUrl.replace(/\/$/, '')}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.token}`,
        'x-maestro-environment': options.environment,
        'x-maestro-region': options.region,
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new CliError(
      'SERVICE_UNAVAILABLE',
      `cannot reach the API at ${options.apiUrl}: ${(error as Error).message}`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as {
    data?: T;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  };
  const first = body.errors?.[0];
  if (first) throw new CliError(first.extensions?.code ?? `HTTP_${res.status}`, first.message);
  if (!body.data) throw new CliError(`HTTP_${res.status}`, 'the API returned no data');
  return body.data;
}
