/** Every read and write of orchestration state happens inside one scope. */
export interface Scope {
  tenantId: string;
  environment: string;
  region: string;
}

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** Environment and region travel in headers; they must be short plain tokens. */
export function isScopeToken(value: string): boolean {
  return TOKEN.test(value);
}
