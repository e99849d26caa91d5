/** One problem of a 422 `validation_failed`, with the path of the field it concerns (`body.url`). */
export type ErrorDetail = { path: string; message: string };

/**
 * hookflow answered with an error: the contract's `{"error": {"code", "message", "details"}}` and the HTTP
 * status. `code` is the contract's snake_case code (`not_found`, `validation_failed`, `rate_limited`, …).
 */
export class HookflowError extends Error {
  override readonly name = 'HookflowError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  /** The error a response carries; a body that is not the contract's shape still gives the status. */
  static fromResponse(response: Response, body: unknown): HookflowError {
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${response.status}`;
    const message = typeof error?.message === 'string' ? error.message : `hookflow answered ${response.status} ${response.statusText}`.trim();
    return new HookflowError(response.status, code, message, Array.isArray(error?.details) ? (error.details as ErrorDetail[]) : []);
  }
}

/** hookflow could not be reached (DNS, refused connection, reset): no answer, so nothing is known to have happened. */
export class HookflowConnectionError extends Error {
  override readonly name = 'HookflowConnectionError';
}
