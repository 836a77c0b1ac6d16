import type { StageConfig } from '../src/config.js';
import { LocalEngine, type RunReport } from './engine.js';
import type { World } from './world.js';

/**
 * `sequencer emulator`: the emulator with a stage's state machine behind it, as on AWS.
 * StartExecution runs the real train (the definition in statemachines/ and the real handlers,
 * through the local engine, every continuation included), StopExecution stops it where it is,
 * RedriveExecution takes a failed execution on from where it failed, and each execution's
 * history is kept for GetExecutionHistory. Time is the engine's simulated clock, paced: it runs
 * `speed` times as fast as the wall clock while the handlers wait, so a client watching a train
 * sees it unfold, and stands still while they work, so the train does exactly what a simulated
 * run would.
 */
export interface TrainService {
  engine: LocalEngine;
  endpoint: string;
  /** The run `--run` asked for, in simulated time before the port was announced. */
  report?: RunReport;
  close(): Promise<void>;
}

/** The name `sls deploy` gives a stage's state machine. */
const stateMachineNameOf = (stage: string) => `codepipeline-sequencer-${stage}`;

export async function serveTrains(options: {
  world: World;
  stage?: string;
  port?: number;
  /** Simulated seconds per real second while the handlers wait (1: wall time). */
  speed: number;
  /** One execution to run first, in simulated time, before time is paced. */
  run?: { input: unknown; signal: AbortSignal };
  /** In place of the stage's params: `completion`, `continueAtEvents` (--completion, --continue-at). */
  settings?: Partial<StageConfig>;
}): Promise<TrainService> {
  const engine = await LocalEngine.create({
    world: options.world,
    ...(options.stage !== undefined && { stage: options.stage }),
    stateMachineName: stateMachineNameOf(options.stage ?? 'dev'),
    recordHistory: true,
    ...(options.port !== undefined && { port: options.port }),
    ...(options.settings && { settings: options.settings }),
  });
  engine.emulator.stepFunctions.controlExecutions({
    stop: (executionArn) => engine.stopExecution(executionArn),
    redrive: (executionArn) => engine.redriveExecution(executionArn),
  });
  const report = options.run ? await engine.run({ input: options.run.input, signal: options.run.signal }) : undefined;
  engine.clock.pace(options.speed);
  return {
    engine,
    endpoint: engine.emulator.endpoint,
    ...(report !== undefined && { report }),
    close: () => engine.emulator.close(),
  };
}
