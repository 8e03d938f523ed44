import { MODEL_PRICES_PER_1K_TOKENS_USD } from '@maestro/domain';
import { z } from 'zod';
import {
  decodeUtf8,
  fetchFailure,
  IDEMPOTENCY_HEADER,
  readBodyLimited,
  snippet,
  statusError,
} from './http-util.ts';
import { fatal, retryable } from './step-error.ts';
import { defineStep, remainingMs } from './step-type.ts';

export interface LlmGenerateOptions {
  /** An OpenAI-compatible server (litellm, Ollama, ...); requests go to `{baseUrl}/v1/chat/completions`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. Never appears in errors or output. */
  apiKey?: string;
  /**
   * USD per 1,000 tokens (prompt + completion): one price for every model, or a table by model.
   * Default: the domain's MODEL_PRICES_PER_1K_TOKENS_USD (the table the estimator uses).
   */
  pricePer1kTokens?: number | Readonly<Record<string, number>>;
  /** Price of a model missing from the table. Default 0.03, as the estimator's, so costs err high. */
  unknownModelPer1kTokens?: number;
  /** Cap on one attempt, further capped by ctx.deadline. Default 120 s. */
  timeoutMs?: number;
  /** Largest completion response read. Default 4 MiB. */
  maxResponseBytes?: number;
}

const input = z.object({
  model: z.string().min(1).max(200),
  prompt: z
    .string()
    .min(1)
    .max(256 * 1024),
  max_tokens: z.number().int().min(1).max(131_072).default(1024),
});

const completion = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }).optional(),
        text: z.string().optional(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
    })
    .optional(),
});

export interface LlmGenerateOutput {
  text: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  cost_usd: number;
}

/** `{baseUrl}/v1/chat/completions`, without doubling a `/v1` the base URL already ends with. */
export function completionsUrl(baseUrl: string): URL {
  if (!URL.canParse(baseUrl)) throw new Error(`llm.generate: invalid baseUrl "${baseUrl}"`);
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new Error(`llm.generate: baseUrl must be http(s), got ${base.protocol}`);
  }
  const path = base.pathname.replace(/\/+$/, '');
  base.pathname = `${path.endsWith('/v1') ? path : `${path}/v1`}/chat/completions`;
  base.search = '';
  base.hash = '';
  return base;
}

/**
 * `llm.generate`: one chat completion from an OpenAI-compatible endpoint configured by the worker
 * (not by the manifest, not from process.env). `ctx.guard.checkModel(model)` runs first. Sends
 * `Idempotency-Key`. The result carries `costUSD` (= output `cost_usd`) from the reported usage
 * (estimated at ~4 characters a token when the server reports none). 5xx, 429, connection errors
 * and timeouts are retryable; other 4xx fatal. Without options the step fails with fatal
 * NOT_CONFIGURED, so a worker without an LLM endpoint still knows the type.
 */
export function createLlmGenerate(options?: LlmGenerateOptions) {
  const url = options ? completionsUrl(options.baseUrl) : undefined;
  const timeoutCap = options?.timeoutMs ?? 120_000;
  const maxBytes = options?.maxResponseBytes ?? 4 * 1024 * 1024;
  const prices = options?.pricePer1kTokens ?? MODEL_PRICES_PER_1K_TOKENS_USD;
  const unknownPrice = options?.unknownModelPer1kTokens ?? 0.03;
  const pricePer1k = (model: string) =>
    typeof prices === 'number' ? prices : (prices[model] ?? unknownPrice);

  return defineStep({
    uses: 'llm.generate',
    input,
    run: async (req, ctx) => {
      await ctx.guard.checkModel(req.model);
      if (!url) throw fatal('NOT_CONFIGURED', 'llm.generate has no endpoint configured on this worker');

      const timeoutMs = remainingMs(ctx, timeoutCap);
      const timeout = AbortSignal.timeout(timeoutMs);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
        [IDEMPOTENCY_HEADER]: ctx.idempotencyKey,
        'x-tenant': ctx.tenantId,
      };
      if (options?.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      const what = `LLM endpoint ${url.host}`;

      let raw: string;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            model: req.model,
            messages: [{ role: 'user', content: req.prompt }],
            max_tokens: req.max_tokens,
            stream: false,
          }),
          redirect: 'error',
          signal: AbortSignal.any([ctx.signal, timeout]),
        });
        raw = decodeUtf8(await readBodyLimited(response, maxBytes));
        if (!response.ok) throw statusError(what, response, raw);
      } catch (error) {
        throw fetchFailure(error, { step: ctx.signal, timeout, timeoutMs, what });
      }

      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw retryable('BAD_RESPONSE', `${what} answered 200 with non-JSON: ${snippet(raw, 200)}`);
      }
      const parsed = completion.safeParse(json);
      if (!parsed.success) {
        throw retryable('BAD_RESPONSE', `${what} answered 200 without a completion: ${snippet(raw, 200)}`);
      }
      const choice = parsed.data.choices[0];
      const text = choice?.message?.content ?? choice?.text ?? '';
      const usage = parsed.data.usage ?? {
        prompt_tokens: Math.ceil(req.prompt.length / 4),
        completion_tokens: Math.ceil(text.length / 4),
      };
      const costUSD = round(((usage.prompt_tokens + usage.completion_tokens) / 1000) * pricePer1k(req.model));
      const output: LlmGenerateOutput = {
        text,
        usage: { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens },
        cost_usd: costUSD,
      };
      return { output, costUSD };
    },
  });
}

function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}
