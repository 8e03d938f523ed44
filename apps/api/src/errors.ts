import { isAppError } from '@maestro/domain';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';

/** The one table from AppError codes to GraphQL error codes (user errors go in payloads). */
const GRAPHQL_CODES: Record<string, string> = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

/** Codes Apollo and our own context produce that are safe to show as they are. */
const PASS_THROUGH = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'SERVICE_UNAVAILABLE',
  'BAD_REQUEST',
  'BAD_USER_INPUT',
  'QUERY_TOO_COMPLEX',
  'PAYLOAD_TOO_LARGE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Expected errors keep their message and code; unexpected ones are logged with a trace id and
 * returned without internals.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (isAppError(original)) {
      const code = GRAPHQL_CODES[original.code] ?? 'INTERNAL_SERVER_ERROR';
      if (code === 'SERVICE_UNAVAILABLE') logger.warn({ err: original.message }, 'dependency unavailable');
      return { message: original.message, path: formatted.path, extensions: { code } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASS_THROUGH.has(code)) {
      // Apollo prefixes errors thrown while building the context; the prefix tells users nothing.
      return { ...formatted, message: formatted.message.replace(/^Context creation failed: /, '') };
    }
    if (original && (original as Error).name === 'ForbiddenError') {
      return { message: 'not allowed', path: formatted.path, extensions: { code: 'FORBIDDEN' } };
    }
    const traceId = crypto.randomUUID();
    logger.error(
      { traceId, err: original instanceof Error ? original.stack : String(original) },
      'unexpected error',
    );
    return {
      message: `internal error (trace ${traceId})`,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', traceId },
    };
  };
}
