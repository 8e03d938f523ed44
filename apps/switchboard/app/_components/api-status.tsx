'use client';

import { useQuery } from '@tanstack/react-query';
import { fetchHealth } from '../_lib/health';
import { useSwitchboardConfig } from '../providers';

type Tone = 'pending' | 'ok' | 'down';

/** Status panel: polls `GET {API}/healthz` and reports "API: ok" / "API: unreachable". */
export function ApiStatus() {
  const { apiBaseUrl } = useSwitchboardConfig();
  const health = useQuery({
    queryKey: ['api', 'healthz', apiBaseUrl],
    queryFn: ({ signal }) => fetchHealth(apiBaseUrl, signal),
    // A health probe should answer quickly: one quick retry, then report; keep polling afterwards.
    retry: 1,
    retryDelay: 500,
    refetchInterval: 15_000,
    staleTime: 0,
  });

  let tone: Tone;
  let label: string;
  if (health.isSuccess) {
    tone = 'ok';
    label = 'API: ok';
  } else if (health.isError) {
    tone = 'down';
    label = 'API: unreachable';
  } else {
    tone = 'pending';
    label = 'API: checking…';
  }

  return (
    <section className="panel" aria-labelledby="api-status-title" aria-busy={health.isPending}>
      <h2 id="api-status-title" className="panel__title">
        API status
      </h2>
      <p className="status" data-state={tone} role="status">
        <span className="status__dot" aria-hidden="true" />
        {label}
      </p>
      <dl className="panel__meta">
        <dt>Endpoint</dt>
        <dd>
          <code>{`${apiBaseUrl}/healthz`}</code>
        </dd>
        {health.isError ? (
          <>
            <dt>Last error</dt>
            <dd>{describeError(health.error)}</dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}

function describeError(error: unknown): string {
  if (error instanceof TypeError) return 'network error (connection refused, DNS or CORS)';
  if (error instanceof Error) return error.message;
  return String(error);
}
