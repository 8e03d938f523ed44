import { randomUUID } from 'node:crypto';

/** Each test makes its own tenant: unique ids keep tests independent and exercise isolation. */
export function uniqueTenantId(prefix = 't'): string {
  return `${prefix}-${randomUUID()}`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
