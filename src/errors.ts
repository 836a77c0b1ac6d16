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
 * Terminal outcomes of a pipeline that end the run. check-status records them on the member
 * and, once every member of the entry has ended, throws the first one by name, so the
 * execution fails at CheckPipelines with exactly this error and a cause naming each member's
 * pipeline, execution, outcome and position; a redrive re-enters there and restarts the member.
 */
export const pipelineOutcomeErrors = {
  Failed: 'PipelineFailed',
  Stopped: 'PipelineStopped',
  Cancelled: 'PipelineCancelled',
  Superseded: 'PipelineSuperseded',
  TimedOut: 'PipelineTimedOut',
} as const;

export type PipelineOutcomeError = (typeof pipelineOutcomeErrors)[keyof typeof pipelineOutcomeErrors];

/** The error an end is recorded with: a status CodePipeline may add later counts as Failed. */
export const outcomeErrorOf = (status: string): PipelineOutcomeError =>
  Object.hasOwn(pipelineOutcomeErrors, status) ? pipelineOutcomeErrors[status as keyof typeof pipelineOutcomeErrors] : pipelineOutcomeErrors.Failed;

/**
 * Text from elsewhere (CodePipeline's statusSummary, a world file's problems) as one line: a
 * cause, a progress line and the table's reason are each read as one line, and a failure is one
 * line on stderr. `a:\n  b\n  c` reads `a: b; c`; any other control character is a space.
 */
export const oneLine = (text: string) =>
  text
    .replace(/:[^\S\n]*\r?\n\s*/g, ': ')
    .replace(/\s*\r?\n\s*/g, '; ')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what it takes out
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .trim();

/** What a failure's cause says of an end CodePipeline gave no statusSummary for. */
export const noStatusSummary = 'CodePipeline gave no statusSummary';

/** A pipeline ended Failed (or in a status CodePipeline may add later). */
export class PipelineFailed extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineFailed';
  }
}

/** A pipeline was stopped by someone. */
export class PipelineStopped extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineStopped';
  }
}

/** A pipeline execution was cancelled (QUEUED mode). */
export class PipelineCancelled extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineCancelled';
  }
}

/** A newer execution superseded ours and onSuperseded is `fail` (or no newer one could be found). */
export class PipelineSuperseded extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineSuperseded';
  }
}

/** A pipeline ran past pipelineTimeoutSeconds; it was left running. */
export class PipelineTimedOut extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineTimedOut';
  }
}

const outcomeErrorClasses = {
  PipelineFailed,
  PipelineStopped,
  PipelineCancelled,
  PipelineSuperseded,
  PipelineTimedOut,
} satisfies Record<PipelineOutcomeError, new (message: string) => Error>;

/** The error a pipeline outcome raises, by its name. */
export const pipelineOutcomeError = (name: PipelineOutcomeError, message: string): Error => new outcomeErrorClasses[name](message);

/**
 * A continued execution started before its predecessor had ended. Transient: the predecessor
 * ends a moment after it started its successor, so the state machine retries this shortly.
 */
export class PredecessorStillRunning extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PredecessorStillRunning';
  }
}

/**
 * A value forwarded from an earlier pipeline (`#{P1.BuildVariables.IMAGE_TAG}`) is not in the
 * execution the run watched succeed, or is not a value CodePipeline takes: the later pipeline
 * was not started. Never retried: a finished execution's outputs do not change.
 */
export class OutputNotFound extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutputNotFound';
  }
}

/**
 * A pipeline in another account cannot be reached: its account's role cannot be assumed
 * (AssumeRole denied: the role's trust does not admit the functions' role, or the role is
 * missing), or the role may not touch the pipeline. The message names the account, region, role
 * and pipeline. Checked for every pipeline before anything starts. Never retried.
 */
export class PipelineAccessDenied extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineAccessDenied';
  }
}

/**
 * A redrive into StartPipelines found more than one execution of a pipeline started while the
 * failed attempt was starting it, none of them known to the run: it cannot tell which was the
 * run's, and starts none (src/lost-starts.ts). Never retried: the executions stay as they are.
 */
export class StartAmbiguous extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartAmbiguous';
  }
}

/** The names the state machine never retries: retrying a validation error cannot succeed. */
export const nonRetryableErrorNames = [
  'InvalidInput',
  'PipelineNotAllowed',
  'PipelineNotFound',
  'PipelineAccessDenied',
  'AlreadyRunning',
  'ConfigurationError',
  'AwsRequestRejected',
  'OutputNotFound',
  'StartAmbiguous',
  ...Object.values(pipelineOutcomeErrors),
] as const;

/** CodePipeline or Step Functions refused a request for good (validation, access denied, conflict). Never retried. */
export class AwsRequestRejected extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsRequestRejected';
  }
}

/**
 * The refusals of a start that retrying cannot mend. When one member of a group is refused after
 * another started, start-pipeline records the refusal on the member instead of failing the Task
 * (src/start.ts says why), and check-status ends the entry with it by name, as with an outcome.
 */
const refusedStartErrorClasses = {
  PipelineNotFound,
  PipelineAccessDenied,
  AwsRequestRejected,
} satisfies Record<string, new (message: string) => Error>;
export type RefusedStartError = keyof typeof refusedStartErrorClasses;

export const isRefusedStart = (error: unknown): boolean => error instanceof Error && Object.hasOwn(refusedStartErrorClasses, error.name);

/** The error a member's end raises, by its name: a pipeline outcome, or a refused start. */
export function entryError(name: PipelineOutcomeError | RefusedStartError, message: string): Error {
  const error = Object.hasOwn(refusedStartErrorClasses, name)
    ? new refusedStartErrorClasses[name as RefusedStartError](message)
    : pipelineOutcomeError(name as PipelineOutcomeError, message);
  // Its cause names every member of the entry, as an outcome's does.
  namesWhatWasLeft.add(error);
  return error;
}

const namesWhatWasLeft = new WeakSet<Error>();

/** Errors whose cause already names the pipelines the run left and where. */
const selfExplaining = new Set<string>([...Object.values(pipelineOutcomeErrors), 'OutputNotFound']);

/**
 * Adds to a failure's cause which pipelines the run left, and where, so the execution's cause
 * names them whatever failed. The name is kept.
 */
export function withWhatWasLeft(error: unknown, left: string): unknown {
  if (error instanceof Error && !selfExplaining.has(error.name) && !namesWhatWasLeft.has(error)) error.message = `${error.message} (the run was ${left})`;
  return error;
}
