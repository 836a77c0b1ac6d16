/**
 * Every error name Step Functions can see, in one place: the names are the contract
 * (Retry and Catch in statemachines/sequencer.asl.yml match on them, the README's
 * failure table documents them). Each class sets its name as a literal so a minifier
 * cannot rename it.
 */

interface ErrorOptions {
  cause?: unknown;
}

/** Malformed execution input: the message names the field and the reason. Never retried. */
export class InvalidInput extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidInput';
  }
}

/** A pipeline in the order is not in this stage's list of allowed pipelines. Never retried. */
export class PipelineNotAllowed extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineNotAllowed';
  }
}

/** A pipeline in the order does not exist in this account and region (GetPipeline said so). Never retried. */
export class PipelineNotFound extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineNotFound';
  }
}

/** Another execution of this state machine is running: single flight, nothing was started. Never retried. */
export class AlreadyRunning extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AlreadyRunning';
  }
}

/** The Lambda environment is missing or malformed: a deployment problem. Never retried. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/**
 * CodePipeline (or Step Functions) stayed unavailable (throttling, 5xx, network) after the
 * SDK's own retries. Transient: the state machine retries it with backoff and jitter.
 */
export class AwsUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsUnavailable';
  }
}

/**
 * Terminal outcomes of a pipeline that end the run. check-status does not throw these:
 * it reports them, and the definition's Fail state raises them by name (ErrorPath), so the
 * execution fails with exactly this error and a cause naming pipeline, execution and position.
 */
export const pipelineOutcomeErrors = {
  Failed: 'PipelineFailed',
  Stopped: 'PipelineStopped',
  Cancelled: 'PipelineCancelled',
  Superseded: 'PipelineSuperseded',
  TimedOut: 'PipelineTimedOut',
} as const;

export type PipelineOutcomeError = (typeof pipelineOutcomeErrors)[keyof typeof pipelineOutcomeErrors];

/** The names the state machine never retries: retrying a validation error cannot succeed. */
export const nonRetryableErrorNames = [
  'InvalidInput',
  'PipelineNotAllowed',
  'PipelineNotFound',
  'AlreadyRunning',
  'ConfigurationError',
  'AwsRequestRejected',
] as const;

/** CodePipeline or Step Functions refused a request for good (validation, access denied, conflict). Never retried. */
export class AwsRequestRejected extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsRequestRejected';
  }
}
