import { fatal } from './step-error.ts';
import type { StepGuard } from './step-type.ts';

export interface AllowListGuardOptions {
  /** Hosts requests may go to: a hostname (`api.example.com`, any port) or host:port. */
  hosts?: Iterable<string>;
  /** Models `llm.generate` may call. */
  models?: Iterable<string>;
}

/**
 * A StepGuard from fixed allow-lists (tests, local development). Denies everything not listed;
 * the engine normally builds its guard from policy decisions instead.
 */
export function allowListGuard(options: AllowListGuardOptions = {}): StepGuard {
  const hosts = new Set([...(options.hosts ?? [])].map((h) => h.toLowerCase()));
  const models = new Set(options.models ?? []);
  return {
    async checkEgress(url) {
      if (!hosts.has(url.host.toLowerCase()) && !hosts.has(url.hostname.toLowerCase())) {
        throw fatal('POLICY_DENIED', `egress to ${url.host} is not allowed`, { details: { host: url.host } });
      }
    },
    async checkModel(model) {
      if (!models.has(model)) {
        throw fatal('POLICY_DENIED', `model "${model.slice(0, 100)}" is not allowed`, { details: { model } });
      }
    },
  };
}
