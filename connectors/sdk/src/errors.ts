/**
 * Errors a connector raises. The runtime retries an action only when `retryable` is true, so a
 * connector decides, where it knows best, whether trying again can help (a timeout) or not (a
 * rejected address).
 */
export interface ConnectorErrorOptions {
  retryable?: boolean;
  /**
   * Not a failure: the far side asked to be called again later (a rate limit, a provider's
   * sending pace). The runtime calls the action again after this many milliseconds, as often
   * as it keeps asking, and never counts it towards an incident. Implies `retryable`.
   */
  retryAfterMs?: number;
  /**
   * A failure, counted towards the incident as any other, whose next try waits at least this
   * many milliseconds: the far side said its trouble lasts that long (a provider's throttle
   * window), and the runtime's backoff alone would spend every attempt inside it. Implies
   * `retryable`.
   */
  retryNotBeforeMs?: number;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class ConnectorError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly retryNotBeforeMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.retryNotBeforeMs = options.retryNotBeforeMs;
    this.retryable =
      options.retryAfterMs !== undefined ||
      options.retryNotBeforeMs !== undefined ||
      (options.retryable ?? false);
    this.details = options.details;
  }
}

/** One problem found while validating config or input: the field path and the reason. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Config or input that does not match its schema: never retryable, the same call fails again. */
export class ConnectorValidationError extends ConnectorError {
  readonly issues: readonly ValidationIssue[];

  constructor(
    code: 'CONFIG_INVALID' | 'INPUT_INVALID' | 'OUTPUT_INVALID',
    subject: string,
    issues: ValidationIssue[],
  ) {
    const summary = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
    super(code, `${subject} is invalid: ${summary}`, { retryable: false, details: { issues } });
    this.name = 'ConnectorValidationError';
    this.issues = issues;
  }
}

/** A connector whose definition contradicts itself (a template bound to an unknown action...). */
export class ConnectorDefinitionError extends Error {
  constructor(connectorType: string, reason: string) {
    super(`connector "${connectorType}": ${reason}`);
    this.name = 'ConnectorDefinitionError';
  }
}

export function isConnectorError(value: unknown): value is ConnectorError {
  return value instanceof ConnectorError;
}
