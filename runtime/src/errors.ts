/**
 * Domain errors with a stable code. The API maps each to an RFC 9457 problem
 * (`type` = `https://pectrack.org/problems/<code>`), so callers can branch on it.
 */
export class PecTrackError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends PecTrackError {
  constructor(what: string, id: string) {
    super('not-found', 404, `${what} ${id} does not exist`, { resource: what, id });
  }
}

/** Optimistic-lock loss or a state that changed under the caller (task already completed). */
export class ConflictError extends PecTrackError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', 409, message, details);
  }
}

export class ValidationError extends PecTrackError {
  constructor(
    message: string,
    readonly problems: { path?: string; elementId?: string; type?: string; reason: string }[],
  ) {
    super('validation', 422, message, { problems });
  }
}

export class BadRequestError extends PecTrackError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, 400, message, details);
  }
}

export class UnauthorizedError extends PecTrackError {
  constructor(message = 'authentication required') {
    super('unauthorized', 401, message);
  }
}

export class ForbiddenError extends PecTrackError {
  constructor(permission: string) {
    super('forbidden', 403, `missing permission ${permission}`, { permission });
  }
}
