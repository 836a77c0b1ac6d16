import { AwsRequestRejected, AwsUnavailable, PipelineNotFound } from './errors.js';

/**
 * What the sequencer makes of an AWS error:
 * - `transient`: AwsUnavailable, which the state machine retries with bounded backoff (5 retries,
 *   full jitter, at most 120 s apart) after the SDK's own 4 attempts;
 * - `gone`: PipelineNotFound, the pipeline (or our execution of it) no longer exists;
 * - `rejected`: AwsRequestRejected, a refusal no retry can fix.
 */
export type AwsErrorVerdict = 'transient' | 'gone' | 'rejected';

/** The operations the sequencer calls, as the API references name them. */
export type CalledOperation =
  | 'GetPipeline'
  | 'StartPipelineExecution'
  | 'GetPipelineExecution'
  | 'ListPipelineExecutions'
  | 'ListActionExecutions'
  | 'GetPipelineState'
  | 'ListExecutions'
  | 'DescribeExecution'
  | 'GetExecutionHistory'
  | 'StartExecution'
  | 'SendTaskSuccess'
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'Scan';

/** The completion table's calls (`completion: events`), which every function but check-status makes on its common path. */
const tableOperations = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Scan'] as const satisfies readonly CalledOperation[];
const tableWrites = ['PutItem', 'UpdateItem', 'DeleteItem'] as const satisfies readonly CalledOperation[];

const anyOperation = 'any' as const;

interface AwsErrorRow {
  verdict: AwsErrorVerdict;
  /** The operations whose API reference lists this error; `any` for the errors common to every AWS JSON API. */
  operations: readonly CalledOperation[] | typeof anyOperation;
}

/**
 * Every error the operations we call can answer, mapped on purpose. The operation-specific rows
 * are the `@throws` of each command in the SDK's model (CodePipeline 2015-07-09, Step Functions
 * 2016-11-23, DynamoDB 2012-08-10); the `any` rows are the errors every AWS JSON API shares (API reference, "Common
 * Errors"). The README's failure section documents this table.
 */
export const awsErrorTable = {
  // The pipeline does not exist, or no longer: it was deleted mid-run, whichever call noticed it.
  PipelineNotFoundException: {
    verdict: 'gone',
    operations: ['GetPipeline', 'StartPipelineExecution', 'GetPipelineExecution', 'ListPipelineExecutions', 'ListActionExecutions', 'GetPipelineState'],
  },
  // Our execution is unknown to the pipeline: it was deleted and re-created under the same name.
  PipelineExecutionNotFoundException: { verdict: 'gone', operations: ['GetPipelineExecution', 'ListActionExecutions'] },
  // AWS: "the pipeline is busy handling ongoing activities. Try again later." So we do, bounded.
  ConflictException: { verdict: 'transient', operations: ['StartPipelineExecution'] },
  // The pipeline runs as many executions as it may (PARALLEL) or holds a full queue (QUEUED). Nothing
  // was started and the start is idempotent (clientRequestToken), and the limit clears as executions
  // end: retrying, bounded, is right; past the retries the run fails AwsUnavailable naming the limit.
  ConcurrentPipelineExecutionsLimitExceededException: { verdict: 'transient', operations: ['StartPipelineExecution'] },
  // We asked for a pipeline version that does not exist: a bug in the request, not a passing state.
  PipelineVersionNotFoundException: { verdict: 'rejected', operations: ['GetPipeline'] },
  // A malformed request (for example a variable the pipeline does not declare, or variables on V1).
  ValidationException: { verdict: 'rejected', operations: anyOperation },
  // A nextToken the service did not issue or no longer honours: retrying the same token cannot help.
  InvalidNextTokenException: { verdict: 'rejected', operations: ['ListPipelineExecutions', 'ListActionExecutions'] },
  // Step Functions: the state machine or execution ARN is malformed or names nothing (a deployment problem).
  InvalidArn: { verdict: 'rejected', operations: ['ListExecutions', 'DescribeExecution', 'GetExecutionHistory', 'StartExecution'] },
  // For SendTaskSuccess, like TaskTimedOut and TaskDoesNotExist: a wait closed already, which
  // src/wake.ts answers as such before anything names it.
  InvalidToken: { verdict: 'rejected', operations: ['ListExecutions', 'GetExecutionHistory', 'SendTaskSuccess'] },
  TaskTimedOut: { verdict: 'rejected', operations: ['SendTaskSuccess'] },
  TaskDoesNotExist: { verdict: 'rejected', operations: ['SendTaskSuccess'] },
  // The wake's output refused: ours to fix, never passing.
  InvalidOutput: { verdict: 'rejected', operations: ['SendTaskSuccess'] },
  ResourceNotFound: { verdict: 'rejected', operations: ['ListExecutions'] },
  StateMachineDoesNotExist: { verdict: 'rejected', operations: ['ListExecutions', 'StartExecution'] },
  StateMachineTypeNotSupported: { verdict: 'rejected', operations: ['ListExecutions'] },
  StateMachineDeleting: { verdict: 'rejected', operations: ['StartExecution'] },
  ExecutionDoesNotExist: { verdict: 'rejected', operations: ['DescribeExecution', 'GetExecutionHistory'] },
  // The name is taken by an execution with other input: the caller built a wrong name or input.
  ExecutionAlreadyExists: { verdict: 'rejected', operations: ['StartExecution'] },
  InvalidExecutionInput: { verdict: 'rejected', operations: ['StartExecution'] },
  InvalidName: { verdict: 'rejected', operations: ['StartExecution'] },
  // Step Functions' cap on open executions: like CodePipeline's, it clears as executions end.
  ExecutionLimitExceeded: { verdict: 'transient', operations: ['StartExecution'] },
  // The key's policy or state refuses us: fixed by people, not by waiting.
  KmsAccessDeniedException: { verdict: 'rejected', operations: ['DescribeExecution', 'GetExecutionHistory', 'StartExecution', 'SendTaskSuccess'] },
  KmsInvalidStateException: { verdict: 'rejected', operations: ['DescribeExecution', 'GetExecutionHistory', 'StartExecution', 'SendTaskSuccess'] },
  // KMS throttled the call Step Functions made for us.
  KmsThrottlingException: { verdict: 'transient', operations: ['DescribeExecution', 'GetExecutionHistory', 'StartExecution', 'SendTaskSuccess'] },
  // DynamoDB, the completion table: its throughput (a partition's, or the account's) was exceeded,
  // or a transaction or another region's write met the item. The SDK retries these first; past
  // its retries they still pass, as for the callback Task (statemachines/sequencer.asl.yml).
  ProvisionedThroughputExceededException: { verdict: 'transient', operations: tableOperations },
  TransactionConflictException: { verdict: 'transient', operations: tableWrites },
  ReplicatedWriteConflictException: { verdict: 'transient', operations: tableWrites },
  // An endpoint discovery answer gone stale: the next request discovers again.
  InvalidEndpointException: { verdict: 'transient', operations: tableOperations },
  // The stage's table is missing (src/completion-table.ts onTable says to deploy the stage again).
  ResourceNotFoundException: { verdict: 'rejected', operations: tableOperations },
  // A local secondary index's item collection full: the table has none, so never, and never passing.
  ItemCollectionSizeLimitExceededException: { verdict: 'rejected', operations: tableWrites },
  // Never named: a refused condition is an answer its caller takes (src/completion-table.ts onTable).
  ConditionalCheckFailedException: { verdict: 'rejected', operations: tableWrites },
  // Common errors: throttling and the service's own failures pass.
  ThrottlingException: { verdict: 'transient', operations: anyOperation },
  TooManyRequestsException: { verdict: 'transient', operations: anyOperation },
  RequestLimitExceeded: { verdict: 'transient', operations: anyOperation },
  InternalFailure: { verdict: 'transient', operations: anyOperation },
  InternalServerError: { verdict: 'transient', operations: anyOperation },
  ServiceUnavailable: { verdict: 'transient', operations: anyOperation },
  RequestTimeout: { verdict: 'transient', operations: anyOperation },
  // The SDK's own name for a request that got no answer in time.
  TimeoutError: { verdict: 'transient', operations: anyOperation },
  // Common errors: who we are or what we may do. IAM and credentials are fixed by people.
  AccessDeniedException: { verdict: 'rejected', operations: anyOperation },
  UnrecognizedClientException: { verdict: 'rejected', operations: anyOperation },
  InvalidClientTokenId: { verdict: 'rejected', operations: anyOperation },
  InvalidSignatureException: { verdict: 'rejected', operations: anyOperation },
  IncompleteSignature: { verdict: 'rejected', operations: anyOperation },
  MissingAuthenticationToken: { verdict: 'rejected', operations: anyOperation },
  ExpiredTokenException: { verdict: 'rejected', operations: anyOperation },
  NotAuthorized: { verdict: 'rejected', operations: anyOperation },
  OptInRequired: { verdict: 'rejected', operations: anyOperation },
  // A body the service could not read, or an operation it does not have: our bug, never passing.
  SerializationException: { verdict: 'rejected', operations: anyOperation },
  UnknownOperationException: { verdict: 'rejected', operations: anyOperation },
} as const satisfies Record<string, AwsErrorRow>;

export type KnownAwsError = keyof typeof awsErrorTable;

interface SdkErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const shapeOf = (error: unknown): SdkErrorShape =>
  (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;

/**
 * The verdict for what the SDK still throws after its own retries. A named error follows the
 * table; HTTP 429 and 5xx are transient whatever their name; so are errors the SDK itself marks
 * retryable and failures that never got an HTTP answer (network). Any other 4xx is a refusal.
 */
export function awsErrorVerdict(error: unknown): AwsErrorVerdict {
  const { name, $metadata, $retryable } = shapeOf(error);
  const row = name !== undefined && Object.hasOwn(awsErrorTable, name) ? awsErrorTable[name as KnownAwsError] : undefined;
  const status = $metadata?.httpStatusCode;
  if (row?.verdict === 'gone') return 'gone';
  if (status === 429 || (status !== undefined && status >= 500)) return 'transient';
  if (row) return row.verdict;
  return $retryable !== undefined || status === undefined ? 'transient' : 'rejected';
}

/**
 * Turns an AWS error into the name Step Functions acts on. `request` says which call failed
 * (`GetPipelineExecution P2 <id>`); `gone` says, for PipelineNotFound, what vanished.
 */
export function toNamedAwsError(error: unknown, request: string, gone?: string): Error {
  const shape = shapeOf(error);
  const name = shape.name ?? 'UnknownError';
  const message = `${request}: ${name}${shape.message ? `: ${shape.message}` : ''}`;
  switch (awsErrorVerdict(error)) {
    case 'gone':
      return new PipelineNotFound(gone ? `${gone} (${message})` : message, { cause: error });
    case 'transient':
      return new AwsUnavailable(message, { cause: error });
    case 'rejected':
      return new AwsRequestRejected(message, { cause: error });
  }
}

/**
 * Whether the SDK sent the request more than once (its answer lost, a 500, a timeout): a refusal
 * of the last attempt may then be of the first attempt's own effect.
 */
export const sentMoreThanOnce = (error: unknown): boolean => ((error as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts ?? 1) > 1;
