import { callbackResumeSeconds, LocalEngine, type RunReport } from '../../local/engine.js';
import { parseWorld, type World } from '../../local/world.js';
import type { StageConfig } from '../../src/config.js';

export type WorldJson = Record<string, unknown> & { pipelines: Record<string, unknown>[] };

export const startTime = '2026-01-01T00:00:00Z';

/**
 * How long after its end a pipeline's event gets it noticed, in seconds: the world's default
 * delivery delay (0.5 to 1.5 s), then the moment the callback Task takes to resume.
 */
export const noticedByEvent = { least: 0.5 + callbackResumeSeconds, most: 1.5 + callbackResumeSeconds };

/** A world where every named pipeline simply succeeds after `durationSeconds`. */
export const world = (pipelines: Record<string, unknown>[], extra: Record<string, unknown> = {}): World =>
  parseWorld({ startTime, pipelines, ...extra }, 'test world');

/** The README's train across accounts and regions (local/worlds/accounts.json), with outputs forwarded from one account to another. */
export const accountsTrainInput = {
  order: ['build', 'deploy-staging', ['deploy-prod-us', 'deploy-prod-eu']],
  variables: {
    'deploy-staging': { IMAGE_TAG: '#{build.BuildVariables.IMAGE_TAG}' },
    'deploy-prod-us': { IMAGE_TAG: '#{build.BuildVariables.IMAGE_TAG}', STAGING_ENDPOINT: '#{deploy-staging.DeployVariables.ENDPOINT}' },
    'deploy-prod-eu': { IMAGE_TAG: '#{build.BuildVariables.IMAGE_TAG}', STAGING_ENDPOINT: '#{deploy-staging.DeployVariables.ENDPOINT}' },
  },
};

export const succeeding = (...names: string[]) => names.map((name, index) => ({ name, durationSeconds: 300 + index * 120 }));

export async function runOnce(
  theWorld: World,
  input: unknown,
  options: { stage?: string; settings?: Partial<StageConfig> } = {},
): Promise<RunReport> {
  const engine = await LocalEngine.create({ world: theWorld, ...options });
  return engine.run({ input });
}

/** The execution once it is no longer RUNNING (a redrive, say, runs on after the call that made it). */
export async function untilEnded(engine: LocalEngine, executionArn: string) {
  while (engine.emulator.stepFunctions.execution(executionArn)!.status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 5));
  return engine.emulator.stepFunctions.execution(executionArn)!;
}

/** The executions the sequencer itself started, in start order. */
export const ours = (report: RunReport) => report.world.executions.filter((execution) => execution.startedBy === 'sequencer');

/** What a user checks first: which pipelines started, in which order, each after the previous ended. */
export function expectSequential(report: RunReport, order: string[]): void {
  const started = ours(report);
  expect(started.map((execution) => execution.pipelineName)).toEqual(order);
  for (let index = 1; index < started.length; index += 1) {
    const previousEnd = started[index - 1]!.finishedAt;
    expect(previousEnd).not.toBeNull();
    expect(Date.parse(started[index]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(previousEnd!));
  }
}
