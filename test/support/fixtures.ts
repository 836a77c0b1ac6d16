import type { Plan, Run, StepInput, TrackedExecution } from '../../src/run.js';
import type { StageConfig } from '../../src/config.js';

export const stageConfig: StageConfig = {
  pipelines: ['P1', 'P2', 'P3', 'V1Pipe'],
  sequences: { release: ['P1', 'P2', 'P3'], hotfix: ['P2', 'P3', 'P1'] },
  defaultSequence: 'release',
  pollSeconds: 30,
  maxPollSeconds: 600,
  pipelineTimeoutSeconds: 86_400,
  onSuperseded: 'follow',
};

export const useStageConfig = (overrides: Partial<StageConfig> = {}) => {
  process.env.STAGE_CONFIG = JSON.stringify({ ...stageConfig, ...overrides });
};

export const execution = {
  id: 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:run-1',
  name: 'run-1',
};

export const plan = (overrides: Partial<Plan> = {}): Plan => ({
  order: ['P3', 'P2', 'P1'],
  count: 3,
  source: 'order',
  dryRun: false,
  variables: {},
  onSuperseded: 'follow',
  pipelineTimeoutSeconds: 86_400,
  polling: { pollSeconds: 30, maxPollSeconds: 600 },
  decidedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

export const tracked = (overrides: Partial<TrackedExecution> = {}): TrackedExecution => ({
  position: 1,
  pipelineName: 'P2',
  pipelineExecutionId: 'exec-p2',
  status: 'InProgress',
  startedAt: '2026-01-01T00:00:00.000Z',
  watchedSince: '2026-01-01T00:00:00.000Z',
  waitSeconds: 30,
  polls: 0,
  supersededExecutionIds: [],
  ...overrides,
});

export const stepInput = (run: Partial<Run> = {}, planOverrides: Partial<Plan> = {}): StepInput => ({
  plan: plan(planOverrides),
  run: { index: 1, results: [], current: tracked(), ...run },
  execution,
});

/** An SDK-shaped service error, as the real client raises it. */
export const awsError = (name: string, httpStatusCode: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode }, $fault: httpStatusCode >= 500 ? 'server' : 'client', ...extra });
