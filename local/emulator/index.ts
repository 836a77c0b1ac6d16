import { ShiftedWallClock, type Clock } from '../clock.js';
import { loadWorld, operationFaults, type World } from '../world.js';
import { CodePipelineEmulator, type ExecutionView } from './codepipeline.js';
import { FaultInjector } from './faults.js';
import { serveAwsJson } from './server.js';
import { TaskTokens } from './tasks.js';
import { StepFunctionsRegistry, type ExecutionStarter, type HistoryEventRecord, type SfnExecutionRecord } from './stepfunctions.js';

export type { ExecutionView } from './codepipeline.js';
export type { HistoryEventRecord, SfnExecutionRecord } from './stepfunctions.js';

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
   * Forgets everything and serves another world on another clock behind the same endpoint:
   * SDK clients read their endpoint once per process, so the server outlives one run.
   */
  reset(options: { world: World; clock: Clock }): void;
  close(): Promise<void>;
}

interface EmulatedAccount {
  codePipeline: CodePipelineEmulator;
  tasks: TaskTokens;
  stepFunctions: StepFunctionsRegistry;
  faults: FaultInjector;
  callCounts: Record<string, number>;
}

function emulatedAccount(world: World, clock: Clock): EmulatedAccount {
  return {
    codePipeline: new CodePipelineEmulator(world, clock),
    tasks: new TaskTokens(),
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
    StartExecution: (input: unknown) => account.stepFunctions.startExecution(input, clock.now()),
    DescribeExecution: (input: unknown) => account.stepFunctions.describeExecution(input),
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
        operations: () =>
          Object.fromEntries(
            // Any call may settle executions the world scripts (a newer one that supersedes): tell the listener after each.
            Object.entries(account.codePipeline.operations).map(([name, operation]) => [
              name,
              (input: unknown) => {
                const answer = operation(input);
                changeListener?.();
                return answer;
              },
            ]),
          ),
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
      execution: (executionArn) => account.stepFunctions.execution(executionArn),
      appendHistory: (executionArn, event) => account.stepFunctions.appendHistory(executionArn, event),
      hasHistory: (executionArn) => account.stepFunctions.hasHistory(executionArn),
    },
    tasks: () => account.tasks,
    onCodePipelineChange: (listener) => {
      changeListener = listener;
    },
    codePipeline: () => account.codePipeline,
    reset: ({ world, clock: nextClock }) => {
      account = emulatedAccount(world, nextClock);
      clock = nextClock;
    },
    close: () => server.close(),
  };
}

/** The emulator on its own, in wall time that starts at the world's startTime. */
export async function serveStandalone(worldPath: string, port?: number): Promise<Emulator> {
  const world = await loadWorld(worldPath);
  const clock = new ShiftedWallClock(Date.parse(world.startTime));
  return startEmulator({ world, clock, ...(port !== undefined && { port }) });
}
