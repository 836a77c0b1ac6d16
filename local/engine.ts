import { setImmediate as drainEventLog } from 'node:timers/promises';
import { types } from 'node:util';
import { StateMachine } from 'aws-local-stepfunctions';
import { SimulatedClock } from './clock.js';
import { retryBackoffSeconds, type Retrier } from './retry-backoff.js';
import { completionModule, loadDefinition, localCallbackFields, localizeDefinition, type Definition } from './definition.js';
import { startLocalDynamo, type LocalDynamo } from './dynamodb.js';
import { LocalEventBus } from './pipeline-events.js';
import type { TaskEnd } from './emulator/tasks.js';
import { DynamoDBClient, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { HistoryCounter, historyEventLimit, type EngineEvent } from './history.js';
import { localLambdaEnvironment, localStageConfig } from './stage.js';
import { eventStateOf, handlerFaults, worldStageTargets, type World } from './world.js';
import { startEmulator, type Emulator, type ExecutionView } from './emulator/index.js';
import { answerHere, instrumentClients, invokedAs, stopAnsweringHere } from './sdk-clients.js';
import { useClock } from '../src/clock.js';
import { executionArnPrefix, successorName } from '../src/continuation.js';
import { claimGraceSeconds } from '../src/completion-table.js';
import { HistoryRecorder } from './history-recorder.js';
import { keep, recall } from './remembered.js';
import { interpreterRequire } from './interpreter.js';
import { routeFunctionLogs } from './function-logs.js';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { tooDeeplyNested } from '../src/field-path.js';
import { maxExecutionInputBytes } from '../src/names.js';
import { causeMessage, maxCauseLength } from '../src/lambda-cause.js';
import type { StageConfig } from '../src/config.js';
import { entryPipelines, type Plan, type Run } from '../src/run.js';

/** A state machine of the emulated account (`codepipeline-sequencer-<stage>` is what `sls deploy` names a stage's). */
const stateMachineArnNamed = (name: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;

export const localStateMachineArn = stateMachineArnNamed('codepipeline-sequencer-local');

/**
 * How long after SendTaskSuccess ends a callback Task the next Lambda function (check-status)
 * takes, in simulated time (the Task's end is recorded at the call, as Step Functions records it).
 * On AWS, Step Functions moves on and invokes the next function in some tens to hundreds of
 * milliseconds; here every other step takes no time at all. Without this moment, a run the
 * sweeper woke started its next pipeline at the very instant of the sweeper's tick, so a pipeline
 * of whole minutes (as worlds script them) ended exactly on a later tick: that sweep, not the
 * event a second later, noticed it, and every pipeline after it. A world of 100 one-hour
 * pipelines had 68 ends noticed by the sweeper, where AWS would see one or two (2, with it).
 */
export const callbackResumeSeconds = 0.1;

/** Where the sweeper's schedule ticks, past the world's start and every sweepSeconds after (listenToPipelineEvents says why). */
const sweepPhaseMs = 37_000;

/** One execution of a train, as `--json` reports it. */
export interface GenerationReport {
  executionName: string;
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'RUNNING';
  historyEvents: number;
  stateTransitions: number;
}

/**
 * An attempt of an execution that ended (failed, timed out or was stopped) and was then
 * redriven: the execution's status, error and cause say only how its last attempt went, and the
 * history alone still tells how the earlier ones ended.
 */
export interface EarlierAttempt {
  executionName: string;
  /** 1 for the execution's first attempt; n + 1 for the one its n-th redrive began. */
  attempt: number;
  status: 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  error?: string;
  cause?: string;
  /** The state it ended in, which its redrive entered again. */
  state: string;
  /** The pipelines of the order entry the run was on. */
  pipelines: string[];
  endedAt: number;
  redrivenAt: number;
}

/** What a run tells a user, and what `sequencer run --json` prints. */
export interface RunReport {
  executionName: string;
  /** ABORTED: the caller's signal interrupted the run (Ctrl-C), as StopExecution would on AWS. */
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  error?: string;
  /** As a person reads it: a function's message, not Lambda's error document DescribeExecution holds. */
  cause?: string;
  output?: unknown;
  world: { executions: ExecutionView[] };
  /** Every execution the train used, in order: the first, then each continuation. */
  generations: GenerationReport[];
  /** How many times the failed execution was redriven. */
  redrives: number;
  /** How the attempt before each redrive ended. */
  earlierAttempts: EarlierAttempt[];
  /**
   * Invocations of the event function or the sweeper that failed while the run ran: on AWS each
   * is a log line, Lambda's retries and at last the dead-letter queue; the run went on without them.
   */
  functionFailures: FunctionFailure[];
  stats: {
    stateTransitions: number;
    /** The largest history of any one execution: what the 25,000-event limit applies to. */
    historyEvents: number;
    lambdaInvocations: number;
    simulatedSeconds: number;
    executions: number;
  };
}

/** One failed invocation of a function EventBridge invokes: which, when (simulated), and its error. */
export interface FunctionFailure {
  functionName: keyof typeof eventHandlerModules;
  at: number;
  error: string;
  message: string;
}

/** Progress, as the functions report it: what the human output prints line by line. */
export type RunEvent =
  | { type: 'decided'; executionName: string; output: unknown; at: number }
  | { type: 'started'; executionName: string; output: unknown; at: number }
  | { type: 'checked'; executionName: string; output: unknown; at: number }
  | { type: 'retried'; executionName: string; state: string; at: number; retry?: RetryDetail }
  | { type: 'continued'; executionName: string; successorName: string; at: number }
  | { type: 'redriven'; executionName: string; state: string; redriveCount: number; at: number }
  /** Read from a history (`sequencer status`, `--watch`): the execution was stopped, in that state, for that cause. */
  | { type: 'stopped'; executionName: string; state: string; cause?: string; at: number };

/** Which error a Task failed with, and the Retry entry of the definition that retries it. */
export interface RetryDetail {
  error: string;
  /** 1 for the first retry. */
  retryNumber: number;
  retrier: Retrier;
}

export interface RunRequest {
  input: unknown;
  executionName?: string;
  onEvent?: (event: RunEvent) => void;
  /** Redrive the train's last execution once if it fails, as Step Functions' Redrive would. */
  redrive?: boolean;
  /** With `redrive`: how long the execution stands failed first, in simulated seconds (0: at once). */
  redriveAfterSeconds?: number;
  /** Aborting it stops the execution where it is: the report says ABORTED, with what ran so far. */
  signal?: AbortSignal;
}

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** One invocation of a function, as Lambda makes it: its context, and every AWS call in it filed under its key. */
const invoke = (functionKey: string, handler: LambdaHandler, event: unknown) => invokedAs.run(functionKey, () => handler(event, lambdaContext(functionKey)));

/** serverless.yml function key → the handler module, as sls deploys it. */
const handlerModules: Record<string, { file: string; faultName: string }> = {
  decideOrder: { file: '../handlers/decide-order.js', faultName: 'decide-order' },
  startPipeline: { file: '../handlers/start-pipeline.js', faultName: 'start-pipeline' },
  checkStatus: { file: '../handlers/check-status.js', faultName: 'check-status' },
};

/** The functions EventBridge invokes (not the state machine): the rule's target and the sweeper's schedule. */
const eventHandlerModules = {
  pipelineEvent: '../handlers/pipeline-event.js',
  sweeper: '../handlers/sweeper.js',
} as const;

/**
 * A function's thrown error as Step Functions records it on AWS: its name as the error, and the
 * Node.js runtime's JSON error document as the cause, in the history, DescribeExecution and the
 * run's report alike (src/lambda-cause.ts reads the message back out for a person).
 */
function asLambdaFailure(error: unknown): unknown {
  // An error of another realm (a Node module's, under jest) is an Error all the same.
  if (!(error instanceof Error) && !types.isNativeError(error)) return error;
  const { name, message, stack } = error as Error;
  // Step Functions keeps no more of a cause than its length limit: a longer one is cut, as there.
  const failure = new Error(JSON.stringify({ errorType: name, errorMessage: message, trace: (stack ?? '').split('\n') }).slice(0, maxCauseLength));
  failure.name = name;
  return failure;
}

/** An error as Step Functions names it, for the engine's own integrations. */
const namedError = (name: string, message: string) => Object.assign(new Error(message), { name });

/** The fault name that makes the continuation's StartExecution lose its answer after it succeeded. */
const continuationFaultName = 'continue-as-new';

/** A crashed or timed-out Lambda, as Step Functions reports it. */
class LambdaUnknown extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Lambda.Unknown';
  }
}

/** A service integration call whose answer was lost (the Step Functions integration's own error name). */
class SdkClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepFunctions.SdkClientException';
  }
}

/**
 * What the `states:startExecution` integration raises when the API refuses: Step Functions
 * prefixes the API's error code (`StepFunctions.ExecutionLimitExceeded`), and that name is what
 * the state's Retry must list. Anything without an AWS error code passes unchanged.
 */
function integrationError(error: unknown): unknown {
  const { name, message, $metadata } = (error ?? {}) as { name?: string; message?: string; $metadata?: unknown };
  if (name === undefined || $metadata === undefined) return error;
  const named = new Error(message ?? name);
  named.name = `StepFunctions.${name}`;
  return named;
}

/**
 * Step Functions' own failure when a Task's input (after Parameters), its result or its output
 * (after ResultPath) passes the 256 KiB payload quota: the execution fails at that state (not
 * catchable by States.ALL, not retried).
 */
class DataLimitExceeded extends Error {
  constructor(stateName: string, what: PayloadKind, bytes: number) {
    const which = { input: 'has an input', result: 'returned a result', output: 'has an output' }[what];
    super(`The state/task '${stateName}' ${which} with a size exceeding the maximum number of bytes service limit (${bytes.toLocaleString('en-US')} bytes; at most ${maxExecutionInputBytes.toLocaleString('en-US')}).`);
    this.name = 'States.DataLimitExceeded';
  }
}

/** A Task's input after Parameters, its result, and its output after ResultPath. */
type PayloadKind = 'input' | 'result' | 'output';

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');

/** Fails the Task as Step Functions would when a payload passes 256 KiB of UTF-8. */
function checkPayload(stateName: string, what: PayloadKind, bytes: number): void {
  if (bytes > maxExecutionInputBytes) throw new DataLimitExceeded(stateName, what, bytes);
}

/** `{"plan":` and `,"run":` and `}`: what a state of a plan and a run adds to the two. */
const planAndRunJsonBytes = 16;

/** Step Functions' own failure when the history passes 25,000 events (not catchable, not retried). */
class HistoryLimitReached extends Error {
  constructor() {
    super(`The execution reached the maximum number of history events (${historyEventLimit}).`);
    this.name = 'States.Runtime';
  }
}

/** Where a failed execution stopped: what a redrive re-enters. */
interface FailurePoint {
  state: string;
  input: unknown;
}

/** One execution's life, across its redrives. */
interface ExecutionRecord {
  name: string;
  arn: string;
  input: unknown;
  startedAt: number;
  history: HistoryCounter;
  lambdaInvocations: number;
  redriveCount: number;
  outcome?: Pick<RunReport, 'status' | 'error' | 'cause' | 'output'>;
  failurePoint?: FailurePoint;
  /** When its last attempt ended. */
  endedAt?: number;
  /** Whether its history is kept for GetExecutionHistory (a continuation's as its predecessor's). */
  recordsHistory: boolean;
  /** Set when the execution handed over to a successor (ContinueAsNewExecution succeeded). */
  successor?: Promise<ExecutionRecord>;
  /** A callback Task just ended by SendTaskSuccess: the function after it starts callbackResumeSeconds later. */
  resumeDue?: boolean;
}

/**
 * The offline stand-in for AWS: the definition in statemachines/ run by aws-local-stepfunctions,
 * its Tasks served by the real handlers in this process, talking through the real SDK to the
 * CodePipeline emulator, all in one simulated clock. One emulator serves the whole process (the
 * SDK clients read their endpoint once); each engine loads its own world into it. A train's
 * continuations are started through the emulator's StartExecution, and run here too.
 */
export class LocalEngine {
  private runs = 0;
  private readonly onDisk: Definition;
  private readonly local: ReturnType<typeof localizeDefinition>;
  /** With `completion: events`: CodePipeline's events, delivered to the event function on the clock. */
  bus: LocalEventBus | undefined;
  private dynamoClient: DynamoDBClient | undefined;
  private eventHandlers: Partial<Record<keyof typeof eventHandlerModules, LambdaHandler>> = {};
  private readonly sweepsScheduled = new Set<number>();
  /** Sweeps run, for tests and the bench. */
  sweeps = 0;
  /** Every failed invocation of the event function and the sweeper, in order. */
  private readonly functionFailures: FunctionFailure[] = [];
  private dynamoRequestsAtStart = 0;
  private localDynamo: LocalDynamo | undefined;
  private readonly executionArnPrefix: string;
  private readonly recorder: HistoryRecorder;
  /** Every execution's history is kept (`sequencer emulator`), or only a train's that may be redriven. */
  private readonly recordAll: boolean;
  private readonly crashes: Map<string, number>;
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly stepFunctionsClient: SFNClient;
  private readonly listeners = new Map<string, (event: RunEvent) => void>();
  private readonly signals = new Map<string, AbortSignal>();
  /** One per running execution: StopExecution stops that execution alone, not its whole train. */
  private readonly stoppers = new Map<string, AbortController>();

  readonly world: World;
  readonly clock: SimulatedClock;
  readonly emulator: Emulator;
  private readonly handlers: Record<string, LambdaHandler>;
  readonly stateMachineArn: string;
  readonly config: StageConfig;
  private readonly tableName: string;

  private constructor(
    world: World,
    clock: SimulatedClock,
    emulator: Emulator,
    handlers: Record<string, LambdaHandler>,
    stateMachineArn: string,
    recordHistory: boolean,
    config: StageConfig,
    tableName: string,
  ) {
    this.world = world;
    this.clock = clock;
    this.emulator = emulator;
    this.handlers = handlers;
    this.stateMachineArn = stateMachineArn;
    this.config = config;
    this.tableName = tableName;
    this.onDisk = loadDefinition(config.completion);
    this.local = localizeDefinition(this.onDisk, stateMachineArn, tableName);
    this.recorder = new HistoryRecorder(this.onDisk, emulator.stepFunctions);
    this.recordAll = recordHistory;
    this.executionArnPrefix = executionArnPrefix(stateMachineArn);
    this.crashes = new Map(handlerFaults(world).map((fault) => [fault.handler, fault.count]));
    this.stepFunctionsClient = new SFNClient({ endpoint: emulator.endpoint, region: 'us-east-1', maxAttempts: 1 });
    emulator.stepFunctions.serveStateMachine(stateMachineArn, (started) => {
      const predecessor = this.predecessorOf(started.input);
      const record = this.newRecord(started.name, JSON.parse(started.input ?? '{}'), started.startDate, predecessor?.recordsHistory ?? this.recordAll);
      const running = this.execute(record, { leaveClock: this.clock.join() });
      if (predecessor) predecessor.successor = running.then(() => record);
    });
  }

  static async create(options: {
    world: World;
    stage?: string;
    /** Overrides of the stage params, e.g. a polling policy to compare (benchmarks, tests). */
    settings?: Partial<StageConfig>;
    logLevel?: string;
    /** The state machine's name in the emulated account (default codepipeline-sequencer-local). */
    stateMachineName?: string;
    /** Where the emulator listens (default: any free port); an engine that finds the process's emulator serving shares it instead. */
    port?: number;
    /** Keep each execution's history in Step Functions' shapes, for GetExecutionHistory. */
    recordHistory?: boolean;
  }): Promise<LocalEngine> {
    const worldStage = worldStageTargets(options.world);
    const config = {
      ...localStageConfig(worldStage.pipelines, options.stage, worldStage.accounts),
      ...options.settings,
    };
    const clock = new SimulatedClock(Date.parse(options.world.startTime));
    // Before the first call of any client, the table's creation among them.
    instrumentClients();
    const emulator = await sharedEmulator(options.world, clock, options.port);
    const dynamo = await sharedDynamo();
    const tableName = `codepipeline-sequencer-local-completion-${++tables}`;
    if (config.completion === 'events') await dynamo.createTable(tableName);
    Object.assign(process.env, localLambdaEnvironment(emulator.endpoint, config, options.logLevel), {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      COMPLETION_TABLE_NAME: tableName,
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    useClock(clock);
    await routeFunctionLogs(clock);
    const handlers: Record<string, LambdaHandler> = {};
    for (const [functionKey, { file }] of Object.entries(handlerModules)) {
      handlers[functionKey] = ((await import(file)) as { handler: LambdaHandler }).handler;
    }
    const stateMachineArn = options.stateMachineName === undefined ? localStateMachineArn : stateMachineArnNamed(options.stateMachineName);
    const engine = new LocalEngine(options.world, clock, emulator, handlers, stateMachineArn, options.recordHistory ?? false, config, tableName);
    if (config.completion === 'events') await engine.listenToPipelineEvents(dynamo);
    return engine;
  }

  /**
   * The events path, as deployed: the emulator's state changes reach the event function through
   * the rule's own pattern (deploy/completion.cjs), and the sweeper runs on its schedule. The
   * sweeps are scheduled at the first tick of the `sweepSeconds` schedule after each end, at the
   * tick after a sweep that failed, and at the first tick past the grace after a delivery that
   * failed: a sweep at any other tick finds nothing new to do, so it is left out of simulated time.
   */
  private async listenToPipelineEvents(dynamo: LocalDynamo): Promise<void> {
    for (const [key, file] of Object.entries(eventHandlerModules)) {
      this.eventHandlers[key as keyof typeof eventHandlerModules] = ((await import(file)) as { handler: LambdaHandler }).handler;
    }
    this.localDynamo = dynamo;
    this.dynamoRequestsAtStart = dynamo.requests();
    this.dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const periodMs = this.config.sweepSeconds * 1000;
    // A schedule's phase is the moment it was created, which has nothing to do with the run's.
    // Worlds script their stages and ends on whole seconds, mostly multiples of 5 (a default Source
    // stage takes 30 s): a tick on such an instant, or within the second or so an event takes
    // after it, notices those ends before their events, every time. 37 s past the world's start
    // is 2 s past the nearest multiple of 5.
    const scheduleOrigin = this.clock.now() + sweepPhaseMs;
    const firstTickFrom = (at: number) => scheduleOrigin + Math.ceil((at - scheduleOrigin) / periodMs) * periodMs;
    const scheduleSweep = (tick: number) => {
      if (this.sweepsScheduled.has(tick)) return;
      this.sweepsScheduled.add(tick);
      this.clock.schedule(tick, async () => {
        this.sweeps += 1;
        const sweep = await this.invokeEventFunction('sweeper', {});
        // What a sweep could not do (it failed, or some watch or claim failed in it), the schedule's
        // next tick tries again, as on AWS: skipping that tick would leave the run asleep until its deadline.
        if (!sweep.succeeded || (sweep.result as { failed?: number }).failed !== 0) scheduleSweep(tick + periodMs);
      });
    };
    this.bus = new LocalEventBus(
      this.clock,
      // Every account's and region's CodePipeline: the bus emits the hub's and the forwarding accounts' changes.
      () => this.emulator.codePipelineLocations(),
      this.world.events,
      completionModule.pipelineEventPattern(this.config.pipelines),
      async (event) => {
        const delivery = await this.invokeEventFunction('pipelineEvent', event);
        // A delivery that failed may leave its end marked and not recorded, or a claim not sent: the
        // sweeper takes those over once they are older than the grace, at a tick after it, as on AWS.
        if (!delivery.succeeded) scheduleSweep(firstTickFrom(this.clock.now() + claimGraceSeconds * 1000));
      },
      (change) => scheduleSweep(firstTickFrom(change.at)),
      eventStateOf,
    );
    this.emulator.onCodePipelineChange(() => this.bus?.scan());
    this.bus.scan();
  }

  /**
   * Invokes a function EventBridge invokes, keeping its failure for the run's report rather than
   * letting it escape into the clock: on AWS it is a log line and the dead-letter queue.
   */
  private async invokeEventFunction(functionName: keyof typeof eventHandlerModules, event: unknown): Promise<{ succeeded: true; result: unknown } | { succeeded: false }> {
    try {
      return { succeeded: true, result: await invoke(functionName, this.eventHandlers[functionName]!, event) };
    } catch (error) {
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      this.functionFailures.push({ functionName, at: this.clock.now(), error: name, message });
      return { succeeded: false };
    }
  }

  /**
   * Runs one train to its end: the first execution, each continuation it hands over to, and
   * (with `redrive`) one redrive of the last execution if it failed. Several trains may run at
   * once; they share the clock and the world.
   */
  async run(request: RunRequest): Promise<RunReport> {
    const executionName = this.nameFor(request);
    // Too deep for aws-local-stepfunctions (it clones the input recursively, outside its own
    // error handling, and would never settle): decide-order refuses it anyway, so ask it directly.
    if (request.input === null || tooDeeplyNested(request.input)) return this.refuseUnrunnableInput(executionName, request.input);
    if (request.onEvent) this.listeners.set(executionName, request.onEvent);
    if (request.signal) this.signals.set(executionName, request.signal);
    const startedAt = this.clock.now();
    const failuresBefore = this.functionFailures.length;
    // A redrive into StartPipelines reads the history (src/lost-starts.ts), as on AWS.
    const first = this.newRecord(executionName, request.input, startedAt, this.recordAll || request.redrive === true);
    this.emulator.stepFunctions.putExecution({
      executionArn: first.arn,
      stateMachineArn: this.stateMachineArn,
      name: executionName,
      status: 'RUNNING',
      startDate: startedAt,
      input: JSON.stringify(request.input),
    });
    const generations: ExecutionRecord[] = [];
    let current: ExecutionRecord | undefined = await this.execute(first, { leaveClock: this.clock.join() });
    let redrives = 0;
    const earlierAttempts: EarlierAttempt[] = [];
    while (current) {
      generations.push(current);
      if (current.outcome?.status === 'FAILED' && request.redrive && redrives === 0 && current.failurePoint) {
        redrives += 1;
        if (request.redriveAfterSeconds) {
          const leaveClock = this.clock.join();
          await this.clock.sleep(request.redriveAfterSeconds);
          leaveClock();
        }
        const { plan, run } = (current.failurePoint.input ?? {}) as { plan?: Plan; run?: Run };
        earlierAttempts.push({
          executionName: current.name,
          attempt: current.redriveCount + 1,
          status: 'FAILED',
          ...(current.outcome.error !== undefined && { error: current.outcome.error }),
          ...(current.outcome.cause !== undefined && { cause: causeMessage(current.outcome.cause) }),
          state: current.failurePoint.state,
          pipelines: entryPipelines(plan, run),
          endedAt: current.endedAt!,
          redrivenAt: this.clock.now(),
        });
        current = await this.redrive(current);
        generations.pop();
        continue;
      }
      current = current.successor ? await current.successor : undefined;
    }
    this.listeners.delete(executionName);
    this.signals.delete(executionName);
    const last = generations.at(-1)!;
    return {
      executionName,
      ...last.outcome!,
      ...(last.outcome?.cause !== undefined && { cause: causeMessage(last.outcome.cause) }),
      world: { executions: this.emulator.executions() },
      generations: generations.map((generation) => ({
        executionName: generation.name,
        status: generation.outcome?.status ?? 'RUNNING',
        historyEvents: generation.history.events,
        stateTransitions: generation.history.transitions,
      })),
      redrives,
      earlierAttempts,
      functionFailures: this.functionFailures.slice(failuresBefore),
      stats: {
        stateTransitions: sum(generations.map((generation) => generation.history.transitions)),
        historyEvents: Math.max(...generations.map((generation) => generation.history.events)),
        lambdaInvocations: sum(generations.map((generation) => generation.lambdaInvocations)),
        simulatedSeconds: (this.clock.now() - startedAt) / 1000,
        executions: generations.length,
      },
    };
  }

  /**
   * Step Functions' Redrive: the failed execution goes on from the state that failed, with the
   * input that state had, under the same name, with $$.Execution.RedriveCount one higher. Its
   * history continues (ExecutionRedriven in place of ExecutionStarted).
   */
  async redrive(record: ExecutionRecord): Promise<ExecutionRecord> {
    const failurePoint = record.failurePoint!;
    record.redriveCount += 1;
    delete record.failurePoint;
    this.emit(record, { type: 'redriven', executionName: record.name, state: failurePoint.state, redriveCount: record.redriveCount, at: this.clock.now() });
    this.emulator.stepFunctions.redriven(record.arn, record.redriveCount, this.clock.now());
    return this.execute(record, { leaveClock: this.clock.join(), from: failurePoint });
  }

  /** StopExecution: the running execution stops where it is and ends ABORTED. False if it is not running here. */
  stopExecution(executionArn: string): boolean {
    const stopper = this.stoppers.get(executionArn);
    stopper?.abort('StopExecution');
    return stopper !== undefined;
  }

  /** RedriveExecution: a failed execution goes on from the state that failed. False if it has nowhere to go on from. */
  redriveExecution(executionArn: string): boolean {
    const record = [...this.records.values()].find((candidate) => candidate.arn === executionArn);
    if (!record?.failurePoint || this.stoppers.has(executionArn)) return false;
    void this.redrive(record);
    return true;
  }

  private newRecord(name: string, input: unknown, startedAt: number, recordsHistory: boolean): ExecutionRecord {
    const record: ExecutionRecord = {
      name,
      recordsHistory,
      arn: `${this.executionArnPrefix}${name}`,
      input,
      startedAt,
      history: new HistoryCounter(
        (state) => this.onDisk.States[state]?.Type as string | undefined,
        (state) => Object.hasOwn(this.local.callbacks, state),
      ),
      lambdaInvocations: 0,
      redriveCount: 0,
    };
    this.records.set(name, record);
    return record;
  }

  /** The record of the execution that started this one (AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID). */
  private predecessorOf(input: string | undefined): ExecutionRecord | undefined {
    try {
      const startedBy = (JSON.parse(input ?? '{}') as { AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID?: unknown }).AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
      return typeof startedBy === 'string' ? this.records.get(startedBy.slice(this.executionArnPrefix.length)) : undefined;
    } catch {
      return undefined;
    }
  }

  private emit(record: ExecutionRecord, event: RunEvent): void {
    const origin = this.originOf(record);
    this.listeners.get(origin)?.(event);
  }

  /** The train's first execution name, from a continuation's name (`<origin>-g<n>`) or the record itself. */
  private originOf(record: ExecutionRecord): string {
    for (const name of this.listeners.keys()) {
      if (record.name === name || isSuccessorOf(record.name, name)) {
        return name;
      }
    }
    return record.name;
  }

  /** Runs (or, with `from`, redrives) one execution to its end; it has joined the clock already. */
  private async execute(record: ExecutionRecord, options: { leaveClock: () => void; from?: FailurePoint }): Promise<ExecutionRecord> {
    const { local } = this;
    const { history } = record;
    const retriesInARow = new Map<string, number>();
    let historyLimitReached = false;
    /** The plan's size in the state, measured at the first Task that writes the run. */
    let planBytes: number | undefined;
    const emit = (event: RunEvent) => this.emit(record, event);
    const executionName = record.name;

    const guardHistory = async () => {
      await drainEventLog();
      if (history.events >= historyEventLimit - 1) {
        historyLimitReached = true;
        throw new HistoryLimitReached();
      }
    };
    /** A state's last failure that a Retry of its own matches: the next attempt, at the same instant, waits out the Retry's interval first. */
    const retryDue = new Map<string, { failedAt: number; delaySeconds: number }>();
    /** Each retrier's failures in a row, by its index, per state: Step Functions counts a retrier's attempts on its own. */
    const retrierFailures = new Map<string, number[]>();
    const attempt = async <T>(stateName: string, work: () => Promise<T>): Promise<T> => {
      const due = retryDue.get(stateName);
      retryDue.delete(stateName);
      // The engine retries at once (retryIntervalOverrides); Step Functions waits, and what the
      // retry meets (a read caught up, a pipeline ended) depends on that wait. A later entry of
      // the state, after a Catch, waits for nothing.
      if (due !== undefined && due.failedAt === this.clock.now()) {
        await this.clock.interruptibleSleep(due.delaySeconds, signal).done;
        if (signal.aborted) throw namedError('States.Runtime', `${stateName}: the execution was stopped`);
      }
      try {
        const output = await work();
        retriesInARow.delete(stateName);
        retrierFailures.delete(stateName);
        return output;
      } catch (error) {
        retriesInARow.set(stateName, (retriesInARow.get(stateName) ?? 0) + 1);
        const retriers = this.onDisk.States[stateName]?.Retry;
        const index = retrierIndex(retriers, (error as { name?: unknown } | null)?.name);
        if (index !== undefined) {
          const failures = retrierFailures.get(stateName) ?? [];
          failures[index] = (failures[index] ?? 0) + 1;
          retrierFailures.set(stateName, failures);
          retryDue.set(stateName, { failedAt: this.clock.now(), delaySeconds: retryDelaySeconds((retriers as Retrier[])[index]!, failures[index]) });
        }
        throw error;
      }
    };

    // StopExecution (or the run's own signal) ends the execution where it is.
    const stopper = new AbortController();
    this.stoppers.set(record.arn, stopper);
    const trainSignal = this.signals.get(this.originOf(record));
    const signal = trainSignal ? AbortSignal.any([trainSignal, stopper.signal]) : stopper.signal;
    const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, functionKey] of Object.entries(local.tasks)) {
      taskHandlers[stateName] = async (input) => {
        if (record.resumeDue) {
          record.resumeDue = false;
          // Stopped in that moment, the execution ends there, and the function is never invoked.
          await this.clock.interruptibleSleep(callbackResumeSeconds, signal).done;
          if (signal.aborted) throw namedError('States.Runtime', `${stateName}: the execution was stopped`);
        }
        await guardHistory();
        // DecideOrder's input is the execution's with its context. Every later Task's is the state
        // (the plan and the run: measured as the Task before it wrote it) with a few hundred bytes
        // of context, so measuring the state once per Task, at its output, costs a third as much.
        const { plan } = input as { plan?: unknown };
        if (plan === undefined) checkPayload(stateName, 'input', jsonBytes(input));
        return attempt(stateName, async () => {
          // Counted once the retry's backoff is over: an execution stopped during it invokes nothing.
          record.lambdaInvocations += 1;
          // $$.State.RetryCount: the engine's context object is fixed per run, so it is filled in here.
          const event = { ...(input as Record<string, unknown>), retryCount: retriesInARow.get(stateName) ?? 0 };
          const timed = stateName === 'DecideOrder' ? this.withSimulatedStartTime(event, record.startedAt) : event;
          const output = await invoke(functionKey, this.handlers[functionKey]!, timed).catch((error: unknown) => {
            // A look that ended the entry badly: show what it saw before the error fails the state.
            const seen = (error as { run?: unknown } | null)?.run;
            if (seen !== undefined) emit({ type: 'checked', executionName, output: seen, at: this.clock.now() });
            throw asLambdaFailure(error);
          });
          if (this.takeCrash(handlerModules[functionKey]!.faultName)) {
            throw new LambdaUnknown(`${functionKey} crashed after its AWS call succeeded (injected fault)`);
          }
          const resultBytes = jsonBytes(output);
          checkPayload(stateName, 'result', resultBytes);
          // ResultPath $.run: the state's output is the plan (the same all the execution long) with the new run.
          if (this.onDisk.States[stateName]?.ResultPath === '$.run') {
            planBytes ??= jsonBytes(plan);
            checkPayload(stateName, 'output', planBytes + resultBytes + planAndRunJsonBytes);
          }
          const type = stateName === 'DecideOrder' ? 'decided' : functionKey === 'startPipeline' ? 'started' : 'checked';
          emit({ type, executionName, output, at: this.clock.now() });
          return output;
        });
      };
    }
    for (const stateName of Object.keys(local.continuations)) {
      taskHandlers[stateName] = async (input) => {
        await guardHistory();
        return attempt(stateName, async () => {
          const { StateMachineArn, Name, Input } = input as { StateMachineArn: string; Name: string; Input: unknown };
          const started = await this.stepFunctionsClient
            .send(new StartExecutionCommand({ stateMachineArn: StateMachineArn, name: Name, input: JSON.stringify(Input) }))
            .catch((error: unknown) => {
              throw integrationError(error);
            });
          if (this.takeCrash(continuationFaultName)) {
            throw new SdkClientError('the answer to StartExecution was lost after the execution started (injected fault)');
          }
          emit({ type: 'continued', executionName, successorName: Name, at: this.clock.now() });
          return { ExecutionArn: started.executionArn, StartDate: started.startDate!.toISOString() };
        });
      };
    }
    for (const stateName of Object.keys(local.callbacks)) {
      taskHandlers[stateName] = async (input) => {
        await guardHistory();
        return attempt(stateName, () => this.callbackWait(record, stateName, input as Record<string, unknown>, signal));
      };
    }
    for (const [stateName, seconds] of Object.entries(local.waits)) {
      taskHandlers[stateName] = async (input) => {
        await guardHistory();
        // Stopped, the execution's Wait ends with it, and no longer holds the clock.
        await this.clock.interruptibleSleep(seconds(input), signal).done;
        return input;
      };
    }

    const machine = validatedMachine(local.definition, this.tableName, options.from?.state);
    const execution = machine.run((options.from ? options.from.input : record.input) as never, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers as never,
        // Retries pause in simulated time, not real time.
        retryIntervalOverrides: Object.fromEntries([...Object.keys(local.tasks), ...Object.keys(local.continuations), ...Object.keys(local.callbacks)].map((state) => [state, 0])),
      },
      context: {
        Execution: { Id: record.arn, Name: executionName, RedriveCount: record.redriveCount },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineArn.split(':').at(-1)! },
        State: { Name: '', EnteredTime: '', RetryCount: 0 },
      },
    });
    let lastEntered: FailurePoint | undefined;
    const abort = () => execution.abort();
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    const eventLog = (async () => {
      let lastError = '';
      for await (const event of execution.eventLogs as AsyncIterable<EngineEvent & RetryEventFields>) {
        history.record(event);
        if (record.recordsHistory) this.recorder.record(record.arn, event, this.clock.now(), record.redriveCount);
        if (event.type === 'StateEntered' && event.state) lastEntered = { state: event.state.name, input: event.state.input };
        if (event.type === 'StateFailed') lastError = event.Error ?? '';
        if (event.type === 'StateRetried') {
          const retry = event.retry ? { error: lastError, retryNumber: event.retry.attempt, retrier: event.retry.retrier } : undefined;
          emit({ type: 'retried', executionName, state: event.state?.name ?? '', at: this.clock.now(), ...(retry && { retry }) });
        }
      }
    })();

    try {
      record.outcome = { status: 'SUCCEEDED', output: await execution.result };
    } catch (error) {
      record.outcome = signal?.aborted ? { status: 'ABORTED' } : { status: 'FAILED', ...describeFailure(error) };
    } finally {
      signal?.removeEventListener('abort', abort);
      this.stoppers.delete(record.arn);
    }
    await eventLog;
    // The instant it ended, as its history has it: once it leaves the clock, a paced clock moves on.
    const endedAt = this.clock.now();
    record.endedAt = endedAt;
    options.leaveClock();
    if (historyLimitReached) history.events = historyEventLimit;
    // Step Functions redrives a stopped execution too, from the state it was stopped in.
    if ((record.outcome.status === 'FAILED' || record.outcome.status === 'ABORTED') && lastEntered && !historyLimitReached) record.failurePoint = lastEntered;
    this.emulator.stepFunctions.putExecution({
      executionArn: record.arn,
      stateMachineArn: this.stateMachineArn,
      name: executionName,
      status: record.outcome.status,
      startDate: record.startedAt,
      stopDate: endedAt,
      ...(record.outcome.status === 'SUCCEEDED' && { output: JSON.stringify(record.outcome.output) }),
      ...(record.outcome.status === 'FAILED' && { error: record.outcome.error!, cause: record.outcome.cause! }),
    });
    return record;
  }

  /**
   * What completion: events cost beyond the state machine, so far: the event function's
   * invocations (every delivery), the sweeps, and the requests the completion table served
   * (the callback Task's, the functions' and the sweeper's). Zero with completion: poll.
   */
  completionUsage(): { eventInvocations: number; sweeps: number; dynamoRequests: number } {
    const eventInvocations = (this.bus?.records ?? []).reduce((total, record) => total + record.deliveredAt.length, 0);
    return { eventInvocations, sweeps: this.sweeps, dynamoRequests: (this.localDynamo?.requests() ?? 0) - this.dynamoRequestsAtStart };
  }

  /**
   * A `.waitForTaskToken` Task, as Step Functions runs it: a fresh token, the DynamoDB call made
   * with it (its errors named as the SDK integration names them, `DynamoDb.<Exception>`), then a
   * wait in simulated time until SendTaskSuccess or SendTaskFailure (served by the emulator) or
   * the Task's timeout, which fails it with States.Timeout.
   */
  private async callbackWait(record: ExecutionRecord, stateName: string, input: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const { [localCallbackFields.timeoutSeconds]: timeout, ...call } = input;
    const timeoutSeconds = Number(timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
      throw namedError('States.Runtime', `${stateName}: the timeout must be a positive integer, got ${JSON.stringify(timeout)}`);
    }
    const tasks = this.emulator.tasks();
    let settle: (end: TaskEnd) => void = () => {};
    const ended = new Promise<TaskEnd>((resolve) => {
      settle = resolve;
    });
    const token = tasks.issue(record.arn, (end) => settle(end));
    const request = JSON.parse(JSON.stringify(call).split(JSON.stringify(localCallbackFields.token)).join(JSON.stringify(token))) as UpdateItemCommandInput;
    try {
      await this.dynamoClient!.send(new UpdateItemCommand(request));
    } catch (error) {
      tasks.close(token);
      throw namedError(`DynamoDb.${(error as Error).name}`, (error as Error).message);
    }
    if (record.recordsHistory) this.recorder.submitted(record.arn, stateName, this.clock.now());
    // Stopped, the wait ends with its execution, at once: its token is closed, as Step Functions
    // closes it (a later SendTaskSuccess gets TaskTimedOut), and its timeout holds neither the
    // simulated clock nor the interpreter's own timer.
    const sleep = this.clock.interruptibleSleep(timeoutSeconds, signal);
    const end = await Promise.race([
      ended.then((value) => {
        sleep.interrupt();
        return value;
      }),
      sleep.done.then<TaskEnd | 'stopped' | undefined>((timedOut) => (timedOut ? undefined : signal.aborted ? 'stopped' : ended)),
    ]);
    if (end === 'stopped') {
      tasks.close(token);
      throw namedError('States.Runtime', `${stateName}: the execution was stopped`);
    }
    if (end === undefined) {
      tasks.close(token);
      throw namedError('States.Timeout', `${stateName} timed out after ${timeoutSeconds} s`);
    }
    if (end.kind === 'failed') throw namedError(end.error || 'States.TaskFailed', end.cause);
    // Step Functions records the Task's end at the call; the function after it starts a moment later.
    record.resumeDue = true;
    return end.output;
  }

  /**
   * aws-local-stepfunctions cannot evaluate `$` on a null input, nor clone a deeply nested one,
   * where Step Functions hands either to DecideOrder and decide-order refuses it. Ask
   * decide-order directly, so a local run reports exactly what an AWS run would: its error,
   * after one Task, nothing started.
   */
  private async refuseUnrunnableInput(executionName: string, input: unknown): Promise<RunReport> {
    const execution = {
      id: `${this.executionArnPrefix}${executionName}`,
      name: executionName,
      stateMachineArn: this.stateMachineArn,
      startTime: new Date(this.clock.now()).toISOString(),
    };
    let failure: { error: string; cause: string } = { error: 'States.Runtime', cause: 'decide-order accepted an input the local engine cannot run' };
    try {
      await this.handlers.decideOrder!({ input, execution, retryCount: 0, redriveCount: 0 }, lambdaContext('decideOrder'));
    } catch (error) {
      failure = { error: (error as Error).name, cause: (error as Error).message };
    }
    // ExecutionStarted, TaskStateEntered, LambdaFunctionScheduled/Started/Failed, ExecutionFailed.
    const historyEvents = 6;
    return {
      executionName,
      status: 'FAILED',
      ...failure,
      world: { executions: this.emulator.executions() },
      generations: [{ executionName, status: 'FAILED', historyEvents, stateTransitions: 1 }],
      redrives: 0,
      earlierAttempts: [],
      functionFailures: [],
      stats: { stateTransitions: 1, historyEvents, lambdaInvocations: 1, simulatedSeconds: 0, executions: 1 },
    };
  }

  private nameFor(request: RunRequest): string {
    this.runs += 1;
    return request.executionName ?? `local-${String(this.runs).padStart(3, '0')}`;
  }

  /**
   * aws-local-stepfunctions stamps $$.Execution.StartTime with the wall clock; on AWS it is the
   * execution's start, which locally is simulated time. decide-order compares it with other
   * runs' start dates (single flight), so hand it the simulated one.
   */
  private withSimulatedStartTime(input: unknown, startedAt: number): unknown {
    const event = input as { execution?: Record<string, unknown> };
    if (!event.execution) return input;
    return { ...event, execution: { ...event.execution, startTime: new Date(startedAt).toISOString() } };
  }

  private takeCrash(handlerName: string): boolean {
    const left = this.crashes.get(handlerName) ?? 0;
    if (left <= 0) return false;
    this.crashes.set(handlerName, left - 1);
    return true;
  }
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** Whether `name` is a continuation of the train whose first execution is `originName`. */
function isSuccessorOf(name: string, originName: string): boolean {
  const generation = Number(/-g(\d+)$/.exec(name)?.[1]);
  return Number.isInteger(generation) && successorName(originName, generation) === name;
}

/** Which Retry entry retries the error: the first whose ErrorEquals names it, as Step Functions picks it. */
function retrierIndex(retry: unknown, errorName: unknown): number | undefined {
  if (!Array.isArray(retry) || typeof errorName !== 'string') return undefined;
  const matches = (names: string[]) => names.includes(errorName) || names.includes('States.ALL') || (names.includes('States.TaskFailed') && errorName !== 'States.Timeout');
  const index = (retry as Retrier[]).findIndex((retrier) => matches(retrier.ErrorEquals));
  return index < 0 ? undefined : index;
}

/**
 * How long the engine waits, in simulated time, before a retrier's retry number `retryNumber`:
 * Step Functions' backoff; with FULL jitter, which draws from 0 to it, half of it, its mean, so
 * that a world's run is the same every time.
 */
function retryDelaySeconds(retrier: Retrier, retryNumber: number): number {
  const backoff = retryBackoffSeconds(retrier, retryNumber);
  return retrier.JitterStrategy === 'FULL' ? backoff / 2 : backoff;
}

/** The fields of aws-local-stepfunctions' StateFailed and StateRetried events the retry lines read. */
interface RetryEventFields {
  Error?: string;
  retry?: { attempt: number; retrier: RetryDetail['retrier'] };
}

function lambdaContext(functionKey: string) {
  return {
    functionName: `codepipeline-sequencer-local-${functionKey}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:codepipeline-sequencer-local-${functionKey}`,
    memoryLimitInMB: '256',
    awsRequestId: 'local',
    logGroupName: `/aws/lambda/codepipeline-sequencer-local-${functionKey}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 20_000,
  };
}

/** Error and Cause as Step Functions would report them for the failed execution. */
function describeFailure(error: unknown): { error: string; cause: string } {
  const inner = (error as { cause?: unknown }).cause ?? error;
  if (inner instanceof Error) return { error: inner.name, cause: inner.message };
  return { error: 'States.Runtime', cause: String(inner) };
}

const machines = new Map<string, StateMachine>();
/** The definitions found valid in this process, each with its completion table's name left out. */
const validShapes = new Set<string>();

/**
 * Validating a definition compiles JSON schemas (a fifth of a second, with a fresh validator each
 * time): check each definition once. Engines' definitions differ only in the name of their
 * completion table, so one check serves every engine. The check writes defaults into what it is
 * given, so it is given a copy: the definition, and so its key here, stays as it was. A redrive
 * runs the same definition from the state that failed.
 */
function validatedMachine(local: Definition, tableName: string, startAt?: string): StateMachine {
  const definition = startAt === undefined ? local : { ...local, StartAt: startAt };
  const key = JSON.stringify(definition);
  let machine = machines.get(key);
  if (!machine) {
    // The redrive copy is the validated definition entered elsewhere: its first states are unreachable on purpose.
    if (startAt === undefined) {
      const shape = key.split(JSON.stringify(tableName)).join('"<completion table>"');
      checkOnce(shape, () => new StateMachine(JSON.parse(key) as never, { validationOptions: { checkArn: true, checkPaths: true } }));
    }
    machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
    machines.set(key, machine);
  }
  return machine;
}

/**
 * A definition found valid is remembered across processes too (local/remembered.ts), under the
 * definition and the versions of the interpreter and its validator: otherwise every `sequencer run`
 * pays for the same check again. A definition edited, or a validator upgraded, is checked anew.
 */
function checkOnce(shape: string, check: () => void): void {
  if (validShapes.has(shape)) return;
  const versions = ['../package.json', 'asl-validator/package.json'].map((path) => (interpreterRequire(path) as { version: string }).version);
  const dependsOn = [JSON.stringify(versions), shape];
  if (recall('valid-definitions', dependsOn) === undefined) {
    check();
    keep('valid-definitions', dependsOn, '');
  }
  validShapes.add(shape);
}

/** A server this process's clients reach without a socket: the emulator, or the local DynamoDB. */
interface AnsweredHere {
  endpoint: string;
  answer: Parameters<typeof answerHere>[1];
  close(): Promise<void>;
}

/**
 * The one server of a kind that answers now, and every endpoint a server of that kind listened on
 * in this process. The handlers' SDK clients are made once, at module load, and keep the first's:
 * one started after another closed (a command run after another in one process, as the end-to-end
 * tests' warm command does, or a test file's engine after closeLocalEngine) answers them all.
 */
interface ServedKind<T extends AnsweredHere> {
  current: T | undefined;
  endpoints: Set<string>;
}

/**
 * `server` answers its kind's endpoints in process for as long as it serves: closed, they refuse
 * as a socket would, and the next engine starts another. Closed again once replaced, it leaves
 * them to the one that answers them now.
 */
function answerForTheProcess<T extends AnsweredHere>(server: T, kind: ServedKind<T>): T {
  kind.endpoints.add(server.endpoint);
  for (const endpoint of kind.endpoints) answerHere(endpoint, server.answer);
  kind.current = server;
  const close = server.close;
  server.close = () => {
    if (kind.current === server) {
      for (const endpoint of kind.endpoints) stopAnsweringHere(endpoint);
      kind.current = undefined;
    }
    return close();
  };
  return server;
}

const emulators: ServedKind<Emulator> = { current: undefined, endpoints: new Set() };

async function sharedEmulator(world: World, clock: SimulatedClock, port?: number): Promise<Emulator> {
  if (emulators.current === undefined) return answerForTheProcess(await startEmulator({ world, clock, ...(port !== undefined && { port }) }), emulators);
  emulators.current.reset({ world, clock });
  return emulators.current;
}

const dynamos: ServedKind<LocalDynamo> = { current: undefined, endpoints: new Set() };
let sharedDynamoDb: Promise<LocalDynamo> | undefined;
let tables = 0;

/** The process's local DynamoDB: the SDK clients read AWS_ENDPOINT_URL_DYNAMODB once, like the emulator's. */
function sharedDynamo(): Promise<LocalDynamo> {
  sharedDynamoDb ??= startLocalDynamo().then((dynamo) => answerForTheProcess(dynamo, dynamos));
  return sharedDynamoDb;
}

/** Stops the process-wide emulator and DynamoDB (tests call it in afterAll; the CLI exits anyway). */
export async function closeLocalEngine(): Promise<void> {
  await emulators.current?.close();
  const dynamo = sharedDynamoDb;
  sharedDynamoDb = undefined;
  await (await dynamo)?.close();
}
