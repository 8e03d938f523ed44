import type { Redis } from '@maestro/queue';

/**
 * Fair dispatch across tenants: a per-tenant cap on running tasks, shared by every worker
 * through Redis. A slot is a member of the tenant's sorted set scored by its expiry, so a
 * worker that dies mid-task frees its slots when they expire instead of leaking them.
 * A task beyond the cap is not lost: its job waits (delayed) and tries again, while the
 * worker moves on to other tenants' tasks.
 */
export interface TenantSlots {
  /** True when the tenant had room (or `holder` already held a slot, which is renewed). */
  acquire(tenantId: string, holder: string): Promise<boolean>;
  renew(tenantId: string, holder: string): Promise<void>;
  release(tenantId: string, holder: string): Promise<void>;
  readonly limit: number;
}

const ACQUIRE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) * 2)
  return 1
end
return 0`;

export function tenantSlots(redis: Redis, options: { limit: number; ttlMs: number }): TenantSlots {
  const key = (tenantId: string) => `maestro:slots:${tenantId}`;
  return {
    limit: options.limit,
    async acquire(tenantId, holder) {
      const ok = await redis.eval(
        ACQUIRE,
        1,
        key(tenantId),
        Date.now(),
        options.limit,
        holder,
        options.ttlMs,
      );
      return ok === 1;
    },
    async renew(tenantId, holder) {
      await redis.zadd(key(tenantId), 'XX', Date.now() + options.ttlMs, holder);
    },
    async release(tenantId, holder) {
      await redis.zrem(key(tenantId), holder);
    },
  };
}
