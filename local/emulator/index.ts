import { ShiftedWallClock, SimulatedClock, type Clock } from '../clock.js';
import { loadWorld, operationFaults, type World } from '../world.js';
import { CodePipelineEmulator, type ExecutionView } from './codepipeline.js';
import { FaultInjector } from './faults.js';
import { serveAwsJson } from './server.js';
import { StepFunctionsRegistry, type ExecutionControls, type ExecutionStarter, type HistoryEventRecord, type SfnExecutionRecord } from './stepfunctions.js';

export type { ExecutionView } from './codepipeline.js';
export type { ExecutionControls, HistoryEventRecord, SfnExecutionRecord } from './stepfunctions.js';

export interface Emulator {
  /** Where to point the SDK clients, e.g. http://127.0.0.1:43123 */
  endpoint: string;
  /** Executions started since the world's startTime (ours and the world's), in start order, as of clock.now(). */
  executions(): ExecutionView[];
  /** Calls per operation name, faulted calls included. */
  callCounts(): Record<string, number>;
  stepFunctions: {
    putExecution(execution: SfnExecutionRecord): void;
    serveStateMachine(stateMachineArn: string, starter: ExecutionStarter): void;
    controlExecutions(controls: ExecutionControls): void;
    execution(executionArn: string): SfnExecutionRecord | undefined;
    appendHistory(executionArn: string, event: HistoryEventRecord): void;
    hasHistory(executionArn: string): boolean;
  };
  /**
   * Forgets everything and serves another world on another clock behind the same endpoint:
   * SDK clients read their endpoint once per process, so the server outlives one run.
   */
  reset(options: { world: World; clock: Clock }): void;
  close(): Promise<void>;
}

interface EmulatedAccount {
  codePipeline: CodePipelineEmulator;
  stepFunctions: StepFunctionsRegistry;
  faults: FaultInjector;
  callCounts: Record<string, number>;
}

function emulatedAccount(world: World, clock: Clock): EmulatedAccount {
  return {
    codePipeline: new CodePipelineEmulator(world, clock),
    stepFunctions: new StepFunctionsRegistry(),
    faults: new FaultInjector(operationFaults(world)),
    callCounts: {},
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
  };

  const server = await serveAwsJson({
    ...(options.port !== undefined && { port: options.port }),
    services: [
      {
        targetPrefix: 'CodePipeline_20150709',
        contentType: 'application/x-amz-json-1.1',
        operations: () => account.codePipeline.operations,
      },
      {
        targetPrefix: 'AWSStepFunctions',
        contentType: 'application/x-amz-json-1.0',
        operations: () => stepFunctionsOperations,
      },
    ],
    beforeCall: (operation, input) => {
      account.callCounts[operation] = (account.callCounts[operation] ?? 0) + 1;
      const fault = account.faults.take(operation, input);
      if (fault) throw fault;
    },
  });

  return {
    endpoint: server.endpoint,
    executions: () => account.codePipeline.executions(),
    callCounts: () => ({ ...account.callCounts }),
    stepFunctions: {
      putExecution: (execution) => account.stepFunctions.putExecution(execution),
      serveStateMachine: (stateMachineArn, starter) => account.stepFunctions.serveStateMachine(stateMachineArn, starter),
      controlExecutions: (controls) => account.stepFunctions.controlExecutions(controls),
      execution: (executionArn) => account.stepFunctions.execution(executionArn),
      appendHistory: (executionArn, event) => account.stepFunctions.appendHistory(executionArn, event),
      hasHistory: (executionArn) => account.stepFunctions.hasHistory(executionArn),
    },
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
