/**
 * Named domain errors. Each carries a stable `code` and the HTTP status the
 * problem-details mapper uses; messages of errors below 500 are shown to clients.
 */
export abstract class StrongroomError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Extra RFC 9457 members safe to show to the client. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.extensions = extensions;
  }
}

export class ValidationError extends StrongroomError {
  readonly code = 'validation-failed';
  readonly status = 400;
}

export class MalformedRequestError extends StrongroomError {
  readonly code = 'malformed-request';
  readonly status = 400;
}

export class UnauthorizedError extends StrongroomError {
  readonly code = 'unauthorized';
  readonly status = 401;
}

export class ForbiddenError extends StrongroomError {
  readonly code = 'forbidden';
  readonly status = 403;
}

export class NotFoundError extends StrongroomError {
  readonly code = 'not-found';
  readonly status = 404;
}

export class MethodNotAllowedError extends StrongroomError {
  readonly code = 'method-not-allowed';
  readonly status = 405;
}

/** The invoice is not in a state that allows this transition. */
export class InvalidTransitionError extends StrongroomError {
  readonly code = 'invalid-transition';
  readonly status = 409;
}

/** AZ-2: whoever created or submitted an invoice cannot approve or reject it. */
export class MakerCheckerError extends StrongroomError {
  readonly code = 'maker-checker';
  readonly status = 403;
}

/** AZ-2: the amount is above what this approver may approve. */
export class ApprovalLimitError extends StrongroomError {
  readonly code = 'approval-limit-exceeded';
  readonly status = 403;
}

/** A payment would take the amount paid above the invoice total. */
export class OverpaymentError extends StrongroomError {
  readonly code = 'overpayment';
  readonly status = 409;
}

export class ConflictError extends StrongroomError {
  readonly code = 'conflict';
  readonly status = 409;
}

export class IdempotencyInProgressError extends StrongroomError {
  readonly code = 'idempotency-in-progress';
  readonly status = 409;
}

/** The audit log has no signed checkpoint covering what was asked for yet; retry later. */
export class NotCheckpointedError extends StrongroomError {
  readonly code = 'not-checkpointed';
  readonly status = 409;
}

export class PreconditionFailedError extends StrongroomError {
  readonly code = 'precondition-failed';
  readonly status = 412;
}

/** A synchronous export is bounded by the response size; larger logs go through the async export. */
export class ExportTooLargeError extends StrongroomError {
  readonly code = 'export-too-large';
  readonly status = 413;
}

export class PayloadTooLargeError extends StrongroomError {
  readonly code = 'payload-too-large';
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends StrongroomError {
  readonly code = 'unsupported-media-type';
  readonly status = 415;
}

/** An invoice names a counterparty the tenant does not have (any more). */
export class CounterpartyNotFoundError extends StrongroomError {
  readonly code = 'counterparty-not-found';
  readonly status = 422;
}

export class IdempotencyKeyReuseError extends StrongroomError {
  readonly code = 'idempotency-key-reused';
  readonly status = 422;
}

export class PreconditionRequiredError extends StrongroomError {
  readonly code = 'precondition-required';
  readonly status = 428;
}

export class TooManyRequestsError extends StrongroomError {
  readonly code = 'too-many-requests';
  readonly status = 429;
}

/** A write could not be committed because a concurrent writer won; safe to retry. */
export class ContentionError extends StrongroomError {
  readonly code = 'contention';
  readonly status = 503;
}
