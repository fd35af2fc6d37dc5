/**
 * The one error registry. Every failure Hush reports to a client is a {@link HushError}
 * made from a code in {@link ERROR_CODES}; `docs/errors.md` lists the same table and a
 * test keeps the two in step.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, summary: 'The request is malformed or a field is invalid.' },
  INVALID_JSON: { status: 400, summary: 'The request body is not valid JSON.' },
  AUDIT_CHECKPOINT_INVALID: {
    status: 400,
    summary: "The audit checkpoint is not signed by this server's audit key for this organization.",
  },
  UNAUTHENTICATED: { status: 401, summary: 'No valid credential was presented.' },
  INVALID_CREDENTIALS: { status: 401, summary: 'The e-mail or password is wrong.' },
  SESSION_EXPIRED: { status: 401, summary: 'The session or token has expired or was revoked.' },
  PERMISSION_DENIED: { status: 403, summary: 'The actor lacks the permission named in details.' },
  CSRF_REJECTED: {
    status: 403,
    summary: 'A cookie-authenticated change did not come from the console (cross-site request).',
  },
  NOT_FOUND: { status: 404, summary: 'The route does not exist.' },
  ORGANIZATION_NOT_FOUND: { status: 404, summary: 'No such organization (or not visible).' },
  PROJECT_NOT_FOUND: { status: 404, summary: 'No such project in the organization.' },
  ENVIRONMENT_NOT_FOUND: { status: 404, summary: 'No such environment in the project.' },
  SERVICE_NOT_FOUND: { status: 404, summary: 'No such service in the project.' },
  MEMBER_NOT_FOUND: { status: 404, summary: 'No such member in the organization.' },
  INVITATION_NOT_FOUND: {
    status: 404,
    summary: 'The invitation token is unknown, used, revoked or expired.',
  },
  TOKEN_NOT_FOUND: { status: 404, summary: 'No such API token.' },
  SECRET_NOT_FOUND: { status: 404, summary: 'No such secret (or version).' },
  JOB_NOT_FOUND: { status: 404, summary: 'No such job.' },
  ROLE_NOT_FOUND: { status: 404, summary: 'No such custom role.' },
  AUDIT_EVENT_NOT_FOUND: { status: 404, summary: 'No such audit event.' },
  ROTATION_NOT_FOUND: { status: 404, summary: 'No such rotation in the organization.' },
  NAME_TAKEN: { status: 409, summary: 'An object with this name or slug already exists.' },
  CONFLICT: { status: 409, summary: 'The request conflicts with the current state.' },
  REFERENCE_FAILED: {
    status: 409,
    summary:
      'A value references a name that is missing, not visible to the reader, or part of a cycle (chains in details).',
  },
  ALREADY_SET_UP: { status: 409, summary: 'First-run setup was already completed.' },
  AUDIT_CHAIN_BROKEN: {
    status: 409,
    summary: 'The audit chain is broken (first broken link in details); nothing was signed.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body exceeds the size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The request body must be application/json.' },
  RATE_LIMITED: { status: 429, summary: 'Too many requests; retry later.' },
  INTERNAL: { status: 500, summary: 'An unexpected error; the server log has the request id.' },
  KEY_UNAVAILABLE: {
    status: 503,
    summary:
      'This node lacks a master key the database needs, or its key cannot unwrap a data key (another node may hold it; see /readyz).',
  },
  DECRYPTION_FAILED: { status: 500, summary: 'A stored ciphertext failed authentication.' },
  ROTATION_FAILED: {
    status: 502,
    summary:
      'The database of a rotated secret refused the new password (reason in the message); the secret is unchanged.',
  },
  STORAGE_FULL: {
    status: 507,
    summary: "The database's disk is full; nothing was written. Free space and retry.",
  },
  DATABASE_UNAVAILABLE: {
    status: 503,
    summary: 'The database cannot be reached or is busy right now; nothing was written. Retry.',
  },
  JOB_SANDBOX_UNAVAILABLE: {
    status: 503,
    summary: 'Jobs cannot run here: the job sandbox (bubblewrap) is missing or cannot start.',
  },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a registered code, an HTTP status and a message that names fields, never values. */
export class HushError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HushError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }
}

/** Shorthand for a {@link HushError}; `throw hushError('NAME_TAKEN', 'project "x" exists')`. */
export function hushError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): HushError {
  return new HushError(code, message, details, cause === undefined ? undefined : { cause });
}

/** A validation failure naming one field. */
export function invalid(field: string, message: string): HushError {
  return new HushError('VALIDATION_FAILED', `${field}: ${message}`, {
    fields: [{ field, message }],
  });
}
