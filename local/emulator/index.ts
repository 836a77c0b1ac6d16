import { ShiftedWallClock, SimulatedClock, type Clock } from '../clock.js';
import { hubAccountId, hubRegion, loadWorld, operationFaults, worldTargets, type World } from '../world.js';
import { CodePipelineEmulator, type ExecutionView } from './codepipeline.js';
import { FaultInjector } from './faults.js';
import { AwsServiceError } from './errors.js';
import { serveAwsJson, type Caller, type RunningServer } from './server.js';
import { StsEmulator, type AssumeRoleRecord } from './sts.js';
import { StepFunctionsRegistry, type ExecutionControls, type ExecutionStarter, type HistoryEventRecord, type SfnExecutionRecord } from './stepfunctions.js';
import { TaskTokens } from './tasks.js';

export type { ExecutionView } from './codepipeline.js';
export type { ExecutionControls, HistoryEventRecord, SfnExecutionRecord } from './stepfunctions.js';
export type { AssumeRoleRecord } from './sts.js';

/** One CodePipeline call as the emulator saw it: whose credentials, which region, which pipeline. */
export interface CodePipelineCall {
  operation: string;
  /** The account the signing credentials belong to (undefined: a key STS never issued). */
  accountId: string | undefined;
  /** The key that signed it: which AssumeRole's credentials a call in another account used. */
  accessKeyId: string | undefined;
  region: string;
  pipelineName?: string;
}

/** One account's CodePipeline in one region. */
export interface CodePipelineLocation {
  accountId: string;
  region: string;
  codePipeline: CodePipelineEmulator;
  /** Whether this account's CodePipeline events reach the hub's bus (always, for the hub's own). */
  forwardsEvents: boolean;
}

export interface Emulator {
  /** Where to point the SDK clients, e.g. http://127.0.0.1:43123 */
  endpoint: string;
  /** The answer to a request to `endpoint`, for a client in this process, without the socket. */
  answer: RunningServer['answer'];
  /** Executions started since the world's startTime (ours and the world's), in start order, as of clock.now(). */
  executions(): ExecutionView[];
  /** Calls per operation name, faulted calls included. */
  callCounts(): Record<string, number>;
  /** The most calls of each operation that were ever being answered at once (slow answers make them overlap). */
  mostInFlight(): Record<string, number>;
  /** Every CodePipeline call, in order, with the account its credentials belong to. */
  codePipelineCalls(): CodePipelineCall[];
  /** Every STS AssumeRole, granted or denied. */
  assumeRoleCalls(): AssumeRoleRecord[];
  /**
   * Whether the world's account forwards its CodePipeline events to the hub's bus (the hub's own
   * events always reach it). For the event path (issue 15): emit an event for a pipeline of
   * another account only when this is true.
   */
  forwardsEvents(accountId: string): boolean;
  stepFunctions: {
    putExecution(execution: SfnExecutionRecord): void;
    /** A redriven execution runs again, its end and error gone until it ends again. */
    redriven(executionArn: string, redriveCount: number, now: number): void;
    serveStateMachine(stateMachineArn: string, starter: ExecutionStarter): void;
    controlExecutions(controls: ExecutionControls): void;
    execution(executionArn: string): SfnExecutionRecord | undefined;
    appendHistory(executionArn: string, event: HistoryEventRecord): void;
    hasHistory(executionArn: string): boolean;
  };
  /** Task tokens of callback waits: the engine issues them, SendTaskSuccess closes them. */
  tasks(): TaskTokens;
  /** Calls `listener` after every CodePipeline call: any of them may start, stop or settle executions. */
  onCodePipelineChange(listener: () => void): void;
  /** The emulated CodePipeline, for the local event bus to read each execution's state changes from. */
  codePipeline(): CodePipelineEmulator;
  /**
   * Every account's and region's CodePipeline, the hub's first, each with whether its events
   * reach the hub's bus (`forwardsEvents`): the local event bus reads them all, and emits only
   * the forwarded ones' changes.
   */
  codePipelineLocations(): CodePipelineLocation[];
  /**
   * Forgets everything and serves another world on another clock behind the same endpoint:
   * SDK clients read their endpoint once per process, so the server outlives one run.
   */
  reset(options: { world: World; clock: Clock }): void;
  close(): Promise<void>;
}

/**
 * The emulated AWS: the hub's Step Functions, STS, and a CodePipeline per account and region
 * the world names (the hub's `pipelines`, each account's `regions`). A CodePipeline call is
 * answered by the CodePipeline of the account its credentials belong to, in the region it was
 * signed for: with the hub's keys the hub's pipelines, with an assumed role's keys that account's.
 */
interface EmulatedAccount {
  world: World;
  clock: Clock;
  codePipelines: Map<string, CodePipelineEmulator>;
  tasks: TaskTokens;
  stepFunctions: StepFunctionsRegistry;
  sts: StsEmulator;
  faults: FaultInjector;
  callCounts: Record<string, number>;
  inFlight: Record<string, number>;
  mostInFlight: Record<string, number>;
  calls: CodePipelineCall[];
}

const locationKey = (accountId: string, region: string) => `${accountId}/${region}`;

function emulatedAccount(world: World, clock: Clock): EmulatedAccount {
  const codePipelines = new Map<string, CodePipelineEmulator>();
  codePipelines.set(locationKey(hubAccountId, hubRegion), new CodePipelineEmulator(world, clock));
  for (const account of world.accounts ?? []) {
    for (const [region, pipelines] of Object.entries(account.regions)) {
      codePipelines.set(locationKey(account.id, region), new CodePipelineEmulator({ startTime: world.startTime, pipelines, clientRequestTokenSeconds: world.clientRequestTokenSeconds }, clock, { accountId: account.id, region }));
    }
  }
  return {
    world,
    clock,
    codePipelines,
    tasks: new TaskTokens(),
    stepFunctions: new StepFunctionsRegistry((world.stepFunctionsReadLagSeconds ?? 0) * 1000),
    sts: new StsEmulator(world, clock),
    faults: new FaultInjector(operationFaults(world)),
    callCounts: {},
    inFlight: {},
    mostInFlight: {},
    calls: [],
  };
}

/** The CodePipeline that answers this caller: its account's, in the region it signed for (an empty one where the world has none). */
function codePipelineFor(account: EmulatedAccount, caller: Caller): CodePipelineEmulator {
  const accountId = account.sts.accountOf(caller);
  if (accountId === undefined) throw new AwsServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const key = locationKey(accountId, caller.region ?? hubRegion);
  let codePipeline = account.codePipelines.get(key);
  if (!codePipeline) {
    codePipeline = new CodePipelineEmulator({ startTime: account.world.startTime, pipelines: [] }, account.clock, { accountId, region: caller.region ?? hubRegion });
    account.codePipelines.set(key, codePipeline);
  }
  return codePipeline;
}

/** The hub's own events always reach its bus; another account's only when its world says it forwards them. */
function forwardsEvents(account: EmulatedAccount, accountId: string): boolean {
  return accountId === hubAccountId || (account.world.accounts ?? []).some((candidate) => candidate.id === accountId && candidate.forwardsEvents);
}

/** Every execution of every account, in start order; one elsewhere carries where it ran, under the stage's name for it. */
function allExecutions(account: EmulatedAccount): ExecutionView[] {
  const hub = locationKey(hubAccountId, hubRegion);
  const names = new Map(worldTargets(account.world).map((target) => [`${locationKey(target.accountId, target.region)}/${target.definition.name}`, target.sequencedAs]));
  return [...account.codePipelines.entries()]
    .flatMap(([key, codePipeline]) =>
      codePipeline.executions().map((execution) => {
        if (key === hub) return execution;
        const [accountId, region] = key.split('/') as [string, string];
        return {
          ...execution,
          pipelineName: names.get(`${key}/${execution.pipelineName}`) ?? execution.pipelineName,
          location: { accountId, region, pipelineName: execution.pipelineName },
        };
      }),
    )
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
}

/** The region an ARN names (`arn:aws:states:<region>:...`), or undefined for text that is not an ARN. */
const regionOfArn = (arn: unknown): string | undefined => (typeof arn === 'string' ? /^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):/.exec(arn)?.[1] : undefined);

type Operation = (input: unknown) => unknown;
type RegionalOperations = Record<
  'StartExecution' | 'ListExecutions' | 'DescribeExecution' | 'GetExecutionHistory' | 'StopExecution' | 'RedriveExecution' | 'ListStateMachines',
  Operation
>;

/**
 * Step Functions as each region sees it. A state machine lives in the region its ARN names (the
 * stage's, us-east-1: where the hub and its functions are), so a call signed for another region
 * finds none, as on AWS: ListStateMachines lists nothing, and a call naming one of its state
 * machines or executions is answered StateMachineDoesNotExist or ExecutionDoesNotExist. An ARN
 * that is not one is left for the operation to refuse (InvalidArn), as before.
 */
function regional<Operations extends RegionalOperations>(operations: Operations, region: string): Operations {
  const field = (input: unknown, name: string) => (typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[name] : undefined);
  const elsewhere = (arn: unknown) => {
    const arnRegion = regionOfArn(arn);
    return arnRegion !== undefined && arnRegion !== region;
  };
  const stateMachineCall = (operation: Operation) => (input: unknown) => {
    const arn = field(input, 'stateMachineArn');
    if (elsewhere(arn)) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return operation(input);
  };
  const executionCall = (operation: Operation) => (input: unknown) => {
    const arn = field(input, 'executionArn');
    if (elsewhere(arn)) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return operation(input);
  };
  return {
    ...operations,
    StartExecution: stateMachineCall(operations.StartExecution),
    ListExecutions: stateMachineCall(operations.ListExecutions),
    DescribeExecution: executionCall(operations.DescribeExecution),
    GetExecutionHistory: executionCall(operations.GetExecutionHistory),
    StopExecution: executionCall(operations.StopExecution),
    RedriveExecution: executionCall(operations.RedriveExecution),
    ListStateMachines: (input: unknown) => {
      const answer = operations.ListStateMachines(input) as { stateMachines: { stateMachineArn: string }[] };
      return { ...answer, stateMachines: answer.stateMachines.filter((stateMachine) => !elsewhere(stateMachine.stateMachineArn)) };
    },
  };
}

/** A local CodePipeline (and Step Functions ListExecutions) whose executions follow the world and the clock. */
export async function startEmulator(options: { world: World; clock: Clock; port?: number }): Promise<Emulator> {
  let account = emulatedAccount(options.world, options.clock);
  let clock = options.clock;
  const stepFunctionsOperations = {
    ListExecutions: (input: unknown) => account.stepFunctions.listExecutions(input),
    StartExecution: (input: unknown) => atOneInstant(clock, () => account.stepFunctions.startExecution(input, clock.now())),
    DescribeExecution: (input: unknown) => account.stepFunctions.describeExecution(input, clock.now()),
    StopExecution: (input: unknown) => account.stepFunctions.stopExecution(input, clock.now()),
    RedriveExecution: (input: unknown) => atOneInstant(clock, () => account.stepFunctions.redriveExecution(input, clock.now())),
    GetExecutionHistory: (input: unknown) => account.stepFunctions.getExecutionHistory(input),
    ListStateMachines: (input: unknown) => account.stepFunctions.listStateMachines(input, clock.now()),
    SendTaskSuccess: (input: unknown) => account.tasks.operations.SendTaskSuccess(input),
    SendTaskFailure: (input: unknown) => account.tasks.operations.SendTaskFailure(input),
    SendTaskHeartbeat: (input: unknown) => account.tasks.operations.SendTaskHeartbeat(input),
  };
  let changeListener: (() => void) | undefined;

  const server = await serveAwsJson({
    ...(options.port !== undefined && { port: options.port }),
    services: [
      {
        targetPrefix: 'CodePipeline_20150709',
        contentType: 'application/x-amz-json-1.1',
        operations: (caller) => {
          const codePipeline = codePipelineFor(account, caller);
          const identity = account.sts.identityOf(caller);
          return Object.fromEntries(
            // Any call may settle executions the world scripts (a newer one that supersedes): tell the listener after each.
            Object.entries(codePipeline.operations).map(([name, operation]) => [
              name,
              (input: unknown) => {
                const answer = codePipeline.answerAs(identity, () => operation(input));
                changeListener?.();
                return answer;
              },
            ]),
          );
        },
      },
      {
        targetPrefix: 'AWSStepFunctions',
        contentType: 'application/x-amz-json-1.0',
        // A call with no signature (the AWS CLI's --no-sign-request) names no region: it is taken as the hub's, as CodePipeline takes it.
        operations: (caller) => regional(stepFunctionsOperations, caller.region ?? hubRegion),
      },
    ],
    query: (action, params, caller) => account.sts.query(action, params, caller),
    beforeCall: async (operation, input, caller) => {
      const answering = account;
      answering.callCounts[operation] = (answering.callCounts[operation] ?? 0) + 1;
      answering.inFlight[operation] = (answering.inFlight[operation] ?? 0) + 1;
      answering.mostInFlight[operation] = Math.max(answering.mostInFlight[operation] ?? 0, answering.inFlight[operation]);
      const pipelineName = input.pipelineName ?? input.name;
      if (!Object.hasOwn(stepFunctionsOperations, operation)) {
        answering.calls.push({
          operation,
          accountId: answering.sts.accountOf(caller),
          accessKeyId: caller.accessKeyId,
          region: caller.region ?? hubRegion,
          ...(typeof pipelineName === 'string' ? { pipelineName } : {}),
        });
      }
      const fault = answering.faults.take(operation, input);
      if (fault?.latencyMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      if (fault?.error) throw fault.error;
    },
    afterCall: (operation) => {
      if ((account.inFlight[operation] ?? 0) > 0) account.inFlight[operation]! -= 1;
    },
  });

  return {
    endpoint: server.endpoint,
    answer: server.answer,
    executions: () => allExecutions(account),
    callCounts: () => ({ ...account.callCounts }),
    mostInFlight: () => ({ ...account.mostInFlight }),
    codePipelineCalls: () => account.calls.map((call) => ({ ...call })),
    assumeRoleCalls: () => account.sts.assumeRoleCalls(),
    forwardsEvents: (accountId) => forwardsEvents(account, accountId),
    stepFunctions: {
      putExecution: (execution) => account.stepFunctions.putExecution(execution),
      redriven: (executionArn, redriveCount, now) => account.stepFunctions.redriven(executionArn, redriveCount, now),
      serveStateMachine: (stateMachineArn, starter) => account.stepFunctions.serveStateMachine(stateMachineArn, starter),
      controlExecutions: (controls) => account.stepFunctions.controlExecutions(controls),
      execution: (executionArn) => account.stepFunctions.execution(executionArn),
      appendHistory: (executionArn, event) => account.stepFunctions.appendHistory(executionArn, event),
      hasHistory: (executionArn) => account.stepFunctions.hasHistory(executionArn),
    },
    tasks: () => account.tasks,
    onCodePipelineChange: (listener) => {
      changeListener = listener;
    },
    // The hub's own: its events reach the hub's bus.
    codePipeline: () => account.codePipelines.get(locationKey(hubAccountId, hubRegion))!,
    codePipelineLocations: () =>
      [...account.codePipelines.entries()].map(([key, codePipeline]) => {
        const [accountId, region] = key.split('/') as [string, string];
        return { accountId, region, codePipeline, forwardsEvents: forwardsEvents(account, accountId) };
      }),
    reset: ({ world, clock: nextClock }) => {
      account = emulatedAccount(world, nextClock);
      clock = nextClock;
    },
    close: () => server.close(),
  };
}

/**
 * Holds a paced clock still while `work` runs: the execution it starts begins at the instant
 * StartExecution answers, not the moment later the engine joins the clock.
 */
function atOneInstant<T>(clock: Clock, work: () => T): T {
  const leave = clock instanceof SimulatedClock ? clock.join() : undefined;
  try {
    return work();
  } finally {
    leave?.();
  }
}

/** The emulator on its own, in wall time that starts at the world's startTime. */
export async function serveStandalone(worldPath: string, port?: number): Promise<Emulator> {
  const world = await loadWorld(worldPath);
  const clock = new ShiftedWallClock(Date.parse(world.startTime));
  return startEmulator({ world, clock, ...(port !== undefined && { port }) });
}
