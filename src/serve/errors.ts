/**
 * The service's errors: a stable code, its HTTP status (a table, not branches) and a sentence that says
 * what to do. A session that is gone is never answered with a reward: the client raises these instead.
 */

export const ERRORS = {
  /** The request's own fault (4xx): the service goes on. */
  bad_request: 400,
  invalid_json: 400,
  path_outside_workspace: 400,
  not_a_file: 400,
  unauthorized: 401,
  network_refused: 403,
  unknown_instance: 404,
  unknown_session: 404,
  file_not_found: 404,
  not_found: 404,
  session_closed: 410,
  payload_too_large: 413,
  output_too_large: 413,
  unsupported_media_type: 415,
  patch_does_not_apply: 422,
  capacity: 429,
  /** The service's side (5xx): never a reward, always an error the client raises. */
  internal: 500,
  grading_failed: 500,
  session_lost: 503,
  sandbox_unavailable: 503,
  image_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class ServeError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly extra: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "ServeError";
    this.code = code;
    this.statusCode = ERRORS[code];
    this.extra = extra;
  }
}

export function errorBody(e: ServeError): Record<string, unknown> {
  return { error: e.code, message: e.message, statusCode: e.statusCode, ...e.extra };
}
