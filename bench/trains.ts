import { LocalEngine, type RunReport } from '../local/engine.js';
import { parseWorld } from '../local/world.js';
import type { PipelineResult } from '../src/run.js';
import type { StageConfig } from '../src/config.js';
import { completionCostUsd, costUsd, type CompletionUsage } from './pricing.js';
import { percentile, round, seededRandom } from './stats.js';
import { workloadSeed } from './workload.js';

/**
 * Release trains: what one run of many long pipelines costs in executions and history. Each
 * train runs under the project's polling and, side by side, under a fixed 30-second poll: the
 * baseline that would have died of the history limit before continue-as-new, and now shows how
 * many executions a naive poll needs.
 */

const day = 86_400;
const hour = 3600;
const startTime = '2026-01-05T06:00:00Z';

export interface TrainFigures {
  status: string;
  error?: string;
  pipelines: number;
  executions: number;
  largestHistory: number;
  stateTransitions: number;
  lambdaInvocations: number;
  simulatedSeconds: number;
  p50DetectionSeconds: number | null;
  p95DetectionSeconds: number | null;
  maxDetectionSeconds: number | null;
  costUsd: number;
}

export interface Trains {
  policies: Record<TrainPolicy, Record<string, TrainFigures>>;
  /** Detection latency of one long pipeline (no history: a manual approval has none), per policy. */
  trainNames: string[];
}

export const trainPolicies = ['events', 'poll', 'fixed30'] as const;
export type TrainPolicy = (typeof trainPolicies)[number];

/** events: serverless.yml's defaults; poll: today's loop; fixed30: the naive poll. */
const policies: Record<TrainPolicy, Partial<StageConfig>> = {
  events: {},
  poll: { completion: 'poll' },
  fixed30: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll' },
};

interface TrainSpec {
  name: string;
  pipelines: { name: string; durationSeconds: number; history?: number[] }[];
  order: unknown[];
  pipelineTimeoutSeconds: number;
}

/** 100 pipelines of 1 to 8 hours (seeded), each with 3 past runs within 10% of its duration. */
function hundredPipelines(withHistory: boolean): TrainSpec {
  const random = seededRandom(workloadSeed);
  const pipelines = Array.from({ length: 100 }, (_, index) => {
    const durationSeconds = Math.round(hour + random() * 7 * hour);
    const history = Array.from({ length: 3 }, () => Math.round(durationSeconds * (0.9 + 0.2 * random())));
    return { name: `train-${String(index + 1).padStart(3, '0')}`, durationSeconds, ...(withHistory ? { history } : {}) };
  });
  return {
    name: `100 pipelines of 1-8 h, ${withHistory ? 'with' : 'without'} history`,
    pipelines,
    order: pipelines.map((pipeline) => pipeline.name),
    pipelineTimeoutSeconds: 10 * hour,
  };
}

const approvals: TrainSpec = {
  name: 'three 7-day approvals in one train',
  pipelines: ['approval-1', 'approval-2', 'approval-3'].map((name) => ({ name, durationSeconds: 7 * day })),
  order: ['approval-1', 'approval-2', 'approval-3'],
  pipelineTimeoutSeconds: 8 * day,
};

const single = (days: number): TrainSpec => ({
  name: `one ${days}-day pipeline`,
  pipelines: [{ name: `wait-${days}d`, durationSeconds: days * day }],
  order: [`wait-${days}d`],
  pipelineTimeoutSeconds: (days + 1) * day,
});

export const trainSpecs = (): TrainSpec[] => [hundredPipelines(false), hundredPipelines(true), approvals, single(7), single(30)];

async function runTrain(spec: TrainSpec, settings: Partial<StageConfig>): Promise<TrainFigures> {
  const world = parseWorld({ startTime, pipelines: spec.pipelines }, spec.name);
  const engine = await LocalEngine.create({ world, settings });
  const report = await engine.run({ input: { order: spec.order, pipelineTimeoutSeconds: spec.pipelineTimeoutSeconds } });
  return figuresOf(report, spec.pipelines.length, engine.completionUsage());
}

function figuresOf(report: RunReport, pipelines: number, completion: CompletionUsage): TrainFigures {
  const results = ((report.output as { pipelines?: PipelineResult[] } | undefined)?.pipelines ?? []).filter((result) => result.status === 'Succeeded');
  const latencies = results.map((result) => (Date.parse(result.detectedAt!) - Date.parse(result.finishedAt!)) / 1000);
  return {
    status: report.status,
    ...(report.error !== undefined ? { error: report.error } : {}),
    pipelines,
    executions: report.stats.executions,
    largestHistory: report.stats.historyEvents,
    stateTransitions: report.stats.stateTransitions,
    lambdaInvocations: report.stats.lambdaInvocations,
    simulatedSeconds: report.stats.simulatedSeconds,
    p50DetectionSeconds: latencies.length > 0 ? percentile(latencies, 0.5) : null,
    p95DetectionSeconds: latencies.length > 0 ? percentile(latencies, 0.95) : null,
    maxDetectionSeconds: latencies.length > 0 ? Math.max(...latencies) : null,
    costUsd: round(costUsd(report.stats) + completionCostUsd(completion), 4),
  };
}

export async function measureTrains(progress: (line: string) => void): Promise<Trains> {
  const specs = trainSpecs();
  const figures = { events: {}, poll: {}, fixed30: {} } as Trains['policies'];
  for (const spec of specs) {
    for (const [policy, settings] of Object.entries(policies) as [TrainPolicy, Partial<StageConfig>][]) {
      figures[policy][spec.name] = await runTrain(spec, settings);
      progress(`trains: ${policy}, ${spec.name} ${figures[policy][spec.name]!.status} ${figures[policy][spec.name]!.error ?? ''}`);
    }
  }
  return { policies: figures, trainNames: specs.map((spec) => spec.name) };
}
