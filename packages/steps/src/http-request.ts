import { z } from 'zod';
import {
  decodeUtf8,
  fetchFailure,
  IDEMPOTENCY_HEADER,
  isJsonContentType,
  readBodyLimited,
  statusError,
} from './http-util.ts';
import { fatal } from './step-error.ts';
import { defineStep, remainingMs } from './step-type.ts';

export interface HttpRequestOptions {
  /** Cap on one attempt (all redirect hops and the body), further capped by ctx.deadline. Default 30 s. */
  timeoutMs?: number;
  /** Largest response body read; beyond it the step fails with fatal OUTPUT_LIMIT. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Redirects followed (each hop passes the egress guard). Default 5. */
  maxRedirects?: number;
}

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Framing/connection headers fetch manages itself; setting them breaks requests. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);
/** Dropped when a redirect leaves the origin, as browsers do. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

const status = z.number().int().min(100).max(599);

const input = z
  .object({
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(HTTP_METHODS))
      .default('GET'),
    url: z
      .string()
      .max(8192)
      .refine(isHttpUrl, 'url must be an absolute http:// or https:// URL without credentials'),
    headers: z
      .record(
        z
          .string()
          .max(256)
          .regex(HEADER_NAME, 'invalid header name')
          .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'this header is set by the client'),
        z
          .string()
          .max(8192)
          .refine((value) => !/[\r\n\0]/.test(value), 'header values may not contain CR, LF or NUL'),
      )
      .default({}),
    /** A string is sent as is; anything else (object, array, number, boolean, null) as JSON. */
    body: z.unknown().optional(),
    /** Statuses that count as success; default any 2xx. */
    expect_status: z
      .union([status, z.array(status).min(1).max(100)])
      .transform((s) => (Array.isArray(s) ? s : [s]))
      .optional(),
  })
  .superRefine((value, ctx) => {
    if (value.body !== undefined && (value.method === 'GET' || value.method === 'HEAD')) {
      ctx.addIssue({
        code: 'custom',
        path: ['body'],
        message: `${value.method} requests cannot have a body`,
      });
    }
  });

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
}

export interface HttpRequestOutput {
  status: number;
  headers: Record<string, string>;
  /** JSON-parsed when the response says it is JSON (and parses), text otherwise, null when empty. */
  body: unknown;
}

/**
 * `http.request`: one HTTP exchange with a bounded time and body size. Every URL (the first and
 * each redirect hop) passes `ctx.guard.checkEgress` before anything is sent. Sends
 * `Idempotency-Key: <ctx.idempotencyKey>`. 5xx, 429, connection errors and timeouts are
 * retryable; 4xx and any other status outside `expect_status` fatal.
 */
export function createHttpRequest(options: HttpRequestOptions = {}) {
  const timeoutCap = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 5;

  return defineStep({
    uses: 'http.request',
    input,
    run: async (req, ctx) => {
      const timeoutMs = remainingMs(ctx, timeoutCap);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      const accepts = (s: number) =>
        req.expect_status ? req.expect_status.includes(s) : s >= 200 && s < 300;

      const headers = new Headers(req.headers);
      let body: string | undefined;
      if (typeof req.body === 'string') body = req.body;
      else if (req.body !== undefined) {
        body = JSON.stringify(req.body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      headers.set(IDEMPOTENCY_HEADER, ctx.idempotencyKey);

      let url = new URL(req.url);
      let method: string = req.method;
      try {
        for (let hop = 0; ; hop++) {
          await ctx.guard.checkEgress(url);
          const response = await fetch(url, { method, headers, body, redirect: 'manual', signal });
          const location = response.headers.get('location');
          if (
            response.status >= 300 &&
            response.status < 400 &&
            location !== null &&
            !accepts(response.status)
          ) {
            await response.body?.cancel().catch(() => {});
            if (hop >= maxRedirects) {
              throw fatal('UNEXPECTED_STATUS', `more than ${maxRedirects} redirects`, {
                details: { status: response.status, url: url.href },
              });
            }
            const next = new URL(location, url);
            if (next.protocol !== 'http:' && next.protocol !== 'https:') {
              throw fatal('VALIDATION', `redirect to unsupported protocol ${next.protocol}`);
            }
            if (
              response.status === 303 ||
              ((response.status === 301 || response.status === 302) && method === 'POST')
            ) {
              if (method !== 'HEAD') method = 'GET';
              body = undefined;
              headers.delete('content-type');
            }
            if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
            url = next;
            continue;
          }
          const bytes = method === 'HEAD' ? new Uint8Array(0) : await readBodyLimited(response, maxBytes);
          const text = decodeUtf8(bytes);
          if (!accepts(response.status))
            throw statusError(`${method} ${url.origin}${url.pathname}`, response, text);
          const output: HttpRequestOutput = {
            status: response.status,
            headers: Object.fromEntries(response.headers),
            body: parseBody(text, response.headers.get('content-type')),
          };
          return { output };
        }
      } catch (error) {
        throw fetchFailure(error, { step: ctx.signal, timeout, timeoutMs, what: `${method} ${url.host}` });
      }
    },
  });
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (!isJsonContentType(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `http.request` with the default limits. */
export const httpRequest = createHttpRequest();
