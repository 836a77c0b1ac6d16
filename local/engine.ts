import { setImmediate as drainEventLog } from 'node:timers/promises';
import { StateMachine } from 'aws-local-stepfunctions';
import { SimulatedClock } from './clock.js';
import { loadDefinition, localizeDefinition, type Definition } from './definition.js';
import { HistoryCounter, historyEventLimit, type EngineEvent } from './history.js';
import { localLambdaEnvironment, localStageConfig } from './stage.js';
import { handlerFaults, type World } from './world.js';
import { startEmulator, type Emulator, type ExecutionView } from './emulator/index.js';
import { useClock } from '../src/clock.js';
import { tooDeeplyNested } from '../src/input.js';
import type { StageConfig } from '../src/config.js';

export const localStateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-local';
const executionArnPrefix = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-local:';

/** What a run tells a user, and what `sequencer run --json` prints. */
export interface RunReport {
  executionName: string;
  /** ABORTED: the caller's signal interrupted the run (Ctrl-C), as StopExecution would on AWS. */
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  error?: string;
  cause?: string;
  output?: unknown;
  world: { executions: ExecutionView[] };
  stats: { stateTransitions: number; historyEvents: number; lambdaInvocations: number; simulatedSeconds: number };
}

/** Progress, as the functions report it: what the human output prints line by line. */
export type RunEvent =
  | { type: 'decided'; executionName: string; output: unknown; at: number }
  | { type: 'started'; executionName: string; output: unknown; at: number }
  | { type: 'checked'; executionName: string; output: unknown; at: number }
  | { type: 'retried'; executionName: string; state: string; at: number; retry?: RetryDetail };

/** Which error a Task failed with, and the Retry entry of the definition that retries it. */
export interface RetryDetail {
  error: string;
  /** 1 for the first retry. */
  retryNumber: number;
  retrier: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number; MaxDelaySeconds?: number; JitterStrategy?: string };
}

export interface RunRequest {
  input: unknown;
  executionName?: string;
  onEvent?: (event: RunEvent) => void;
  /** Aborting it stops the execution where it is: the report says ABORTED, with what ran so far. */
  signal?: AbortSignal;
}

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** serverless.yml function key → the handler module, as sls deploys it. */
const handlerModules: Record<string, { file: string; faultName: string }> = {
  decideOrder: { file: '../handlers/decide-order.js', faultName: 'decide-order' },
  startPipeline: { file: '../handlers/start-pipeline.js', faultName: 'start-pipeline' },
  checkStatus: { file: '../handlers/check-status.js', faultName: 'check-status' },
};

/** A crashed or timed-out Lambda, as Step Functions reports it. */
class LambdaUnknown extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Lambda.Unknown';
  }
}

/** Step Functions' own failure when the history passes 25,000 events (not catchable, not retried). */
class HistoryLimitReached extends Error {
  constructor() {
    super(`The execution reached the maximum number of history events (${historyEventLimit}).`);
    this.name = 'States.Runtime';
  }
}

/**
 * The offline stand-in for AWS: the definition in statemachines/ run by aws-local-stepfunctions,
 * its Tasks served by the real handlers in this process, talking through the real SDK to the
 * CodePipeline emulator, all in one simulated clock. One emulator serves the whole process (the
 * SDK clients read their endpoint once); each engine loads its own world into it.
 */
export class LocalEngine {
  private runs = 0;
  private readonly onDisk: Definition = loadDefinition();
  private readonly local = localizeDefinition(this.onDisk);
  private readonly crashes: Map<string, number>;

  private constructor(
    readonly world: World,
    readonly clock: SimulatedClock,
    readonly emulator: Emulator,
    private readonly handlers: Record<string, LambdaHandler>,
  ) {
    this.crashes = new Map(handlerFaults(world).map((fault) => [fault.handler, fault.count]));
  }

  static async create(options: {
    world: World;
    stage?: string;
    /** Overrides of the stage params, e.g. a polling policy to compare (benchmarks, tests). */
    settings?: Partial<StageConfig>;
    logLevel?: string;
  }): Promise<LocalEngine> {
    const config = {
      ...localStageConfig(
        options.world.pipelines.map((pipeline) => pipeline.name),
        options.stage,
      ),
      ...options.settings,
    };
    const clock = new SimulatedClock(Date.parse(options.world.startTime));
    const emulator = await sharedEmulator(options.world, clock);
    Object.assign(process.env, localLambdaEnvironment(emulator.endpoint, config, options.logLevel));
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    useClock(clock);
    const handlers: Record<string, LambdaHandler> = {};
    for (const [functionKey, { file }] of Object.entries(handlerModules)) {
      handlers[functionKey] = ((await import(file)) as { handler: LambdaHandler }).handler;
    }
    return new LocalEngine(options.world, clock, emulator, handlers);
  }

  /** Runs one execution to its end. Several may run at once; they share the clock and the world. */
  async run(request: RunRequest): Promise<RunReport> {
    // Too deep for aws-local-stepfunctions (it clones the input recursively, outside its own
    // error handling, and would never settle): decide-order refuses it anyway, so ask it directly.
    if (request.input === null || tooDeeplyNested(request.input)) return this.refuseNullInput(request);
    const executionName = this.nameFor(request);
    const executionArn = `${executionArnPrefix}${executionName}`;
    const startedAt = this.clock.now();
    const leaveClock = this.clock.join();
    const { local } = this;
    const history = new HistoryCounter((state) => this.onDisk.States[state]?.Type as string | undefined);
    let lambdaInvocations = 0;
    let historyLimitReached = false;
    const emit = (event: RunEvent) => request.onEvent?.(event);

    const guardHistory = async () => {
      await drainEventLog();
      if (history.events >= historyEventLimit - 1) {
        historyLimitReached = true;
        throw new HistoryLimitReached();
      }
    };

    const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, functionKey] of Object.entries(local.tasks)) {
      taskHandlers[stateName] = async (input) => {
        await guardHistory();
        lambdaInvocations += 1;
        const event = stateName === 'DecideOrder' ? this.withSimulatedStartTime(input, startedAt) : input;
        if (stateName === 'DecideOrder') this.register(executionArn, executionName, 'RUNNING', startedAt);
        const output = await this.handlers[functionKey]!(event, lambdaContext(functionKey));
        if (this.takeCrash(handlerModules[functionKey]!.faultName)) {
          throw new LambdaUnknown(`${functionKey} crashed after its AWS call succeeded (injected fault)`);
        }
        const type = stateName === 'DecideOrder' ? 'decided' : functionKey === 'startPipeline' ? 'started' : 'checked';
        emit({ type, executionName, output, at: this.clock.now() });
        return output;
      };
    }
    for (const [stateName, seconds] of Object.entries(local.waits)) {
      taskHandlers[stateName] = async (input) => {
        await guardHistory();
        await this.clock.sleep(seconds(input));
        return input;
      };
    }

    const machine = validatedMachine(local.definition);
    const execution = machine.run(request.input as never, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers as never,
        // Retries pause in simulated time, not real time.
        retryIntervalOverrides: Object.fromEntries(Object.keys(local.tasks).map((state) => [state, 0])),
      },
      context: {
        Execution: { Id: executionArn, Name: executionName },
        StateMachine: { Id: localStateMachineArn, Name: 'codepipeline-sequencer-local' },
      },
    });
    const abort = () => execution.abort();
    if (request.signal?.aborted) abort();
    request.signal?.addEventListener('abort', abort, { once: true });
    const eventLog = (async () => {
      let lastError = '';
      for await (const event of execution.eventLogs as AsyncIterable<EngineEvent & RetryEventFields>) {
        history.record(event);
        if (event.type === 'StateFailed') lastError = event.Error ?? '';
        if (event.type === 'StateRetried') {
          const retry = event.retry ? { error: lastError, retryNumber: event.retry.attempt, retrier: event.retry.retrier } : undefined;
          emit({ type: 'retried', executionName, state: event.state?.name ?? '', at: this.clock.now(), ...(retry && { retry }) });
        }
      }
    })();

    let report: Pick<RunReport, 'status' | 'error' | 'cause' | 'output'>;
    try {
      report = { status: 'SUCCEEDED', output: await execution.result };
    } catch (error) {
      report = request.signal?.aborted ? { status: 'ABORTED' } : { status: 'FAILED', ...describeFailure(error) };
    } finally {
      request.signal?.removeEventListener('abort', abort);
      leaveClock();
    }
    await eventLog;
    this.register(executionArn, executionName, report.status, startedAt, this.clock.now());
    return {
      executionName,
      ...report,
      world: { executions: this.emulator.executions() },
      stats: {
        stateTransitions: history.transitions,
        historyEvents: historyLimitReached ? historyEventLimit : history.events,
        lambdaInvocations,
        simulatedSeconds: (this.clock.now() - startedAt) / 1000,
      },
    };
  }

  /**
   * aws-local-stepfunctions cannot evaluate `$` on a null input, nor clone a deeply nested one,
   * where Step Functions hands either to DecideOrder and decide-order refuses it. Ask decide-order directly, so a local run
   * reports exactly what an AWS run would: its error, after one Task, nothing started.
   */
  private async refuseNullInput(request: RunRequest): Promise<RunReport> {
    const executionName = this.nameFor(request);
    const execution = {
      id: `${executionArnPrefix}${executionName}`,
      name: executionName,
      stateMachineArn: localStateMachineArn,
      startTime: new Date(this.clock.now()).toISOString(),
    };
    let failure: { error: string; cause: string } = { error: 'States.Runtime', cause: 'decide-order accepted an input the local engine cannot run' };
    try {
      await this.handlers.decideOrder!({ input: request.input, execution }, lambdaContext('decideOrder'));
    } catch (error) {
      failure = { error: (error as Error).name, cause: (error as Error).message };
    }
    return {
      executionName,
      status: 'FAILED',
      ...failure,
      world: { executions: this.emulator.executions() },
      // ExecutionStarted, TaskStateEntered, LambdaFunctionScheduled/Started/Failed, ExecutionFailed.
      stats: { stateTransitions: 1, historyEvents: 6, lambdaInvocations: 1, simulatedSeconds: 0 },
    };
  }

  private nameFor(request: RunRequest): string {
    this.runs += 1;
    return request.executionName ?? `local-${String(this.runs).padStart(3, '0')}`;
  }

  private register(executionArn: string, name: string, status: string, startDate: number, stopDate?: number): void {
    this.emulator.stepFunctions.putExecution({
      executionArn,
      stateMachineArn: localStateMachineArn,
      name,
      status,
      startDate,
      ...(stopDate !== undefined ? { stopDate } : {}),
    } as never);
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

/** Validating a definition compiles JSON schemas (a third of a second): do it once per definition. */
function validatedMachine(definition: Definition): StateMachine {
  const key = JSON.stringify(definition);
  let machine = machines.get(key);
  if (!machine) {
    machine = new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
    machines.set(key, machine);
  }
  return machine;
}

let shared: Emulator | undefined;

async function sharedEmulator(world: World, clock: SimulatedClock): Promise<Emulator> {
  if (!shared) shared = await startEmulator({ world, clock });
  else shared.reset({ world, clock });
  return shared;
}

/** Stops the process-wide emulator (tests call it in afterAll; the CLI exits anyway). */
export async function closeLocalEngine(): Promise<void> {
  await shared?.close();
  shared = undefined;
}
