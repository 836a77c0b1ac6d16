import type { Member, Plan, Run, StepInput } from '../../src/run.js';
import type { StageConfig } from '../../src/config.js';

export const stageConfig: StageConfig = {
  pipelines: ['P1', 'P2', 'P3', 'V1Pipe'],
  sequences: { release: ['P1', 'P2', 'P3'], hotfix: ['P2', 'P3', 'P1'] },
  defaultSequence: 'release',
  pollSeconds: 30,
  maxPollSeconds: 600,
  pipelineTimeoutSeconds: 86_400,
  onSuperseded: 'follow',
  onFailure: 'fail',
  completion: 'poll',
  sweepSeconds: 60,
};

export const useStageConfig = (overrides: Partial<StageConfig> = {}) => {
  process.env.STAGE_CONFIG = JSON.stringify({ ...stageConfig, ...overrides });
};

export const execution = {
  id: 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:run-1',
  stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev',
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

/** A started member of the entry at position 1: P2, alone, watched since 00:00. */
export const tracked = (overrides: Partial<Member> = {}): Member => ({
  position: 1,
  member: 0,
  pipelineName: 'P2',
  attempt: 0,
  pipelineExecutionId: 'exec-p2',
  status: 'InProgress',
  startedAt: '2026-01-01T00:00:00.000Z',
  deadline: '2026-01-02T00:00:00.000Z',
  watchedSince: '2026-01-01T00:00:00.000Z',
  nextLookAt: '2026-01-01T00:00:30.000Z',
  polls: 0,
  supersededExecutionIds: [],
  earlierExecutionIds: [],
  ...overrides,
});

export const run = (overrides: Partial<Run> = {}): Run => ({
  index: 1,
  phase: 'watch',
  waitSeconds: 30,
  members: [tracked()],
  results: [],
  history: { events: 100, pending: 4 },
  redrives: 0,
  generation: 1,
  origin: { executionArn: execution.id, executionName: execution.name },
  ...overrides,
});

export const stepInput = (
  runOverrides: Partial<Run> = {},
  planOverrides: Partial<Plan> = {},
  counts: { retryCount?: number; redriveCount?: number } = {},
): StepInput => ({
  plan: plan(planOverrides),
  run: run(runOverrides),
  execution,
  retryCount: counts.retryCount ?? 0,
  redriveCount: counts.redriveCount ?? 0,
});

/** An SDK-shaped service error, as the real client raises it. */
export const awsError = (name: string, httpStatusCode: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode }, $fault: httpStatusCode >= 500 ? 'server' : 'client', ...extra });
