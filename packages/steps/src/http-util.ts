import { abortError, classifyError, fatal, retryable, StepError } from './step-error.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Longest `Retry-After` honoured as a hint; the engine's backoff caps it further. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Reads a response body as a stream, up to `limit` bytes. Beyond it (or when Content-Length
 * already says so) the body is cancelled, which closes the connection, and the read fails with
 * a fatal OUTPUT_LIMIT.
 */
export async function readBodyLimited(response: Response, limit: number): Promise<Uint8Array> {
  const tooLarge = () =>
    fatal('OUTPUT_LIMIT', `response body exceeds ${limit} bytes`, { details: { limit } });
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export function isJsonContentType(contentType: string | null): boolean {
  return contentType !== null && /^(?:application|text)\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(contentType);
}

export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

/** The start of a text, for error messages. */
export function snippet(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…[${text.length - max} more chars]` : text;
}

/** `Retry-After` (seconds or an HTTP date) as milliseconds, when present and sane. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(seconds) ? Math.min(Math.max(0, seconds), MAX_RETRY_AFTER_MS) : undefined;
}

/**
 * The StepError for an HTTP status the step did not accept: 429 retryable RATE_LIMITED, 5xx
 * retryable HTTP_5XX, other 4xx fatal HTTP_4XX, anything else fatal UNEXPECTED_STATUS.
 */
export function statusError(what: string, response: Response, bodyText: string): StepError {
  const status = response.status;
  const details = { status, body: snippet(bodyText, 2000) };
  const message = `${what} answered ${status}${bodyText ? `: ${snippet(bodyText, 300)}` : ''}`;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const hint = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) return retryable('RATE_LIMITED', message, { details, ...hint });
  if (status >= 500) return retryable('HTTP_5XX', message, { details, ...hint });
  if (status >= 400) return fatal('HTTP_4XX', message, { details });
  return fatal('UNEXPECTED_STATUS', message, { details });
}

/**
 * Maps an error from a fetch exchange: StepErrors pass through; when the step's signal fired,
 * abortError; when the exchange's own timeout fired, retryable TIMEOUT; otherwise classifyError
 * (connection codes retryable CONNECTION, etc.).
 */
export function fetchFailure(
  error: unknown,
  signals: { step: AbortSignal; timeout: AbortSignal; timeoutMs: number; what: string },
): StepError {
  if (error instanceof StepError) return error;
  if (signals.step.aborted) return abortError(signals.step);
  if (signals.timeout.aborted) {
    return retryable('TIMEOUT', `${signals.what} timed out after ${signals.timeoutMs} ms`, { cause: error });
  }
  return classifyError(error);
}
