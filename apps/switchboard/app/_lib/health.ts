/** Shape of `GET {API}/healthz` when the API is healthy. */
export interface HealthResponse {
  status: 'ok';
}

export const HEALTH_TIMEOUT_MS = 5_000;

function isHealthResponse(value: unknown): value is HealthResponse {
  return typeof value === 'object' && value !== null && (value as { status?: unknown }).status === 'ok';
}

/**
 * Fetches `{apiBaseUrl}/healthz`. Resolves only for a 2xx response whose JSON body is
 * `{"status":"ok"}`; rejects on network errors, timeouts, non-2xx or an unexpected body.
 */
export async function fetchHealth(apiBaseUrl: string, signal?: AbortSignal): Promise<HealthResponse> {
  const controller = new AbortController();
  const abort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new Error(`timed out after ${HEALTH_TIMEOUT_MS} ms`)),
    HEALTH_TIMEOUT_MS,
  );
  try {
    const response = await fetch(`${apiBaseUrl}/healthz`, {
      signal: controller.signal,
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body: unknown = await response.json();
    if (!isHealthResponse(body)) throw new Error('unexpected /healthz response');
    return body;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', abort);
  }
}
