import type { JobPayload } from '@maestro/queue';

export interface PingResult {
  nonce: string;
  workerId: string;
  receivedAt: string;
}

/** Answers a ping so producers can prove a worker is consuming. */
export function systemPing(payload: JobPayload<'systemPing'>, workerId: string): PingResult {
  return { nonce: payload.nonce, workerId, receivedAt: new Date().toISOString() };
}
