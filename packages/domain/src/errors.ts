/**
 * One error type for the whole system (see DESIGN.md, "Errors").
 * Codes of the public contract (ErrorCode enum) are user-fixable failures; the rest are
 * internal and are mapped to GraphQL error codes by the API's error table.
 */
export const USER_ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'POLICY_DENIED',
  'QUOTA_EXCEEDED',
  'BUDGET_EXCEEDED',
  'INVALID_STATE',
  'CONFLICT',
  'SELF_APPROVAL',
  'DUPLICATE_APPROVER',
  'APPROVAL_EXPIRED',
] as const;
export type UserErrorCode = (typeof USER_ERROR_CODES)[number];

export const SYSTEM_ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_REQUEST',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;
export type SystemErrorCode = (typeof SYSTEM_ERROR_CODES)[number];

export type ErrorCode = UserErrorCode | SystemErrorCode;

export interface AppErrorOptions {
  /** Path to the offending input field or manifest location. */
  field?: string[];
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field: string[] | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.field = options.field;
  }

  /** True for failures a user can fix (returned as `userErrors`, not as GraphQL errors). */
  get isUserError(): boolean {
    return (USER_ERROR_CODES as readonly string[]).includes(this.code);
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Several user-fixable problems reported together (e.g. every problem in a manifest). */
export class AppErrors extends Error {
  readonly errors: AppError[];

  constructor(errors: AppError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'AppErrors';
    this.errors = errors;
  }
}
