import { AppError, AppErrors, USER_ERROR_CODES, type UserErrorCode } from '@maestro/domain';
import { builder } from '../builder.ts';

export const PageInfoRef = builder
  .objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo')
  .implement({
    fields: (t) => ({
      hasNextPage: t.exposeBoolean('hasNextPage'),
      endCursor: t.exposeString('endCursor', { nullable: true }),
    }),
  });

export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: USER_ERROR_CODES });

export interface UserErrorShape {
  code: UserErrorCode;
  message: string;
  field: string[] | null;
}

export const UserErrorRef = builder.objectRef<UserErrorShape>('UserError').implement({
  description: 'Expected, user-fixable failure of a mutation. Unexpected failures are GraphQL errors.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
    field: t.exposeStringList('field', {
      nullable: true,
      description: 'Path to the offending input field or manifest location, when there is one.',
    }),
  }),
});

export interface ActorShape {
  subject: string;
  roles: string[];
}

export const ActorRef = builder.objectRef<ActorShape>('Actor').implement({
  fields: (t) => ({
    subject: t.exposeString('subject'),
    roles: t.exposeStringList('roles'),
  }),
});

export function toUserError(error: AppError): UserErrorShape {
  return { code: error.code as UserErrorCode, message: error.message, field: error.field ?? null };
}

/** The user errors an expected failure stands for, or null for an unexpected one. */
export function userErrorsOf(error: unknown): UserErrorShape[] | null {
  if (error instanceof AppError && error.isUserError) return [toUserError(error)];
  if (error instanceof AppErrors) return error.errors.map(toUserError);
  return null;
}

/**
 * The payload + userErrors pattern: expected failures (AppError with a user code) become
 * `userErrors`; anything else propagates as a GraphQL error (logged with a trace id).
 */
export async function withUserErrors<D extends object>(
  work: () => Promise<D>,
  empty: D,
): Promise<D & { userErrors: UserErrorShape[] }> {
  try {
    return { ...(await work()), userErrors: [] };
  } catch (error) {
    const userErrors = userErrorsOf(error);
    if (userErrors) return { ...empty, userErrors };
    throw error;
  }
}
