export { canonicalJson, digestOf } from './digest.ts';
export type { AppErrorOptions, ErrorCode, SystemErrorCode, UserErrorCode } from './errors.ts';
export { AppError, AppErrors, isAppError, SYSTEM_ERROR_CODES, USER_ERROR_CODES } from './errors.ts';
export type { EntityKind } from './ids.ts';
export { ID_PREFIX, kindOfId, newId } from './ids.ts';
export type { Scope } from './scope.ts';
export { isScopeToken } from './scope.ts';
