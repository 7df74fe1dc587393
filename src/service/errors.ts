/**
 * Errors of the service: every failure a caller sees is a JSON body `{ error: { code, message } }`
 * with a stable `code` and the HTTP status that belongs to it. The engine's typed errors (bad bytes,
 * other parameters, wrong level) are the caller's fault and answer 400 with their own code.
 */
import { CipherlmError } from '../api/errors';

export class ServiceError extends CipherlmError {
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
  ) {
    super(message, code);
  }
}

export const unauthorized = () => new ServiceError(401, 'ERR_UNAUTHORIZED', 'a valid API token is required (Authorization: Bearer <token>)');
export const notFound = (what: string) => new ServiceError(404, 'ERR_NOT_FOUND', `${what} not found`);
export const payloadTooLarge = (message: string) => new ServiceError(413, 'ERR_PAYLOAD_TOO_LARGE', message);
export const conflict = (code: string, message: string) => new ServiceError(409, code, message);
export const tooManyJobs = (message: string) => new ServiceError(429, 'ERR_TOO_MANY_JOBS', message);
export const badRequest = (code: string, message: string) => new ServiceError(400, code, message);

/** Fastify's own error codes, mapped onto the service's stable ones. */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'ERR_PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'ERR_CONTENT_LENGTH' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'ERR_MALFORMED_JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'ERR_MALFORMED_JSON' },
  FST_ERR_VALIDATION: { status: 400, code: 'ERR_VALIDATION' },
};

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Status and body for any error thrown while handling a request. */
export function describeError(error: unknown): { status: number; body: ErrorBody; internal: boolean } {
  const body = (code: string, message: string) => ({ error: { code, message } });
  if (error instanceof ServiceError) return { status: error.statusCode, body: body(error.code, error.message), internal: false };
  // stored bytes that fail their checksum are the server's damage, not the caller's
  if (error instanceof CipherlmError && error.code === 'ERR_CORRUPT_BLOB') return { status: 500, body: body(error.code, error.message), internal: true };
  if (error instanceof CipherlmError && error.code !== 'ERR_INTERNAL') return { status: 400, body: body(error.code, error.message), internal: false };
  const e = error as { code?: unknown; statusCode?: unknown; validation?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (e?.validation) return { status: 400, body: body('ERR_VALIDATION', message), internal: false };
  const mapped = typeof e?.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return { status: mapped.status, body: body(mapped.code, message), internal: false };
  // JSON.parse errors from the body parser carry status 400 and no code
  if (error instanceof SyntaxError && e.statusCode === 400) return { status: 400, body: body('ERR_MALFORMED_JSON', message), internal: false };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return { status: e.statusCode, body: body(typeof e.code === 'string' ? e.code : 'ERR_BAD_REQUEST', message), internal: false };
  return { status: 500, body: body('ERR_INTERNAL', 'internal error'), internal: true };
}
