import { LocalEngine, type RunReport } from '../local/engine.js';
import type { StageConfig } from '../src/config.js';
import type { PipelineResult } from '../src/run.js';
import { completionCostUsd, costUsd, type CompletionUsage, type Usage } from './pricing.js';
import type { EventDelivery, World } from '../local/world.js';
import { percentile, round } from './stats.js';
import type { Workload } from './workload.js';

export const policyNames = ['events', 'eventsDrop10', 'eventsAllDropped', 'poll', 'fixed30', 'eventDriven'] as const;
export type PolicyName = (typeof policyNames)[number];

export interface ExecutionFigures {
  status: string;
  error?: string;
  cause?: string;
  pipelines: number;
  stateTransitions: number;
  historyEvents: number;
  lambdaInvocations: number;
  /** null for the computed policy, which has no clock. */
  simulatedSeconds: number | null;
  detectionLatenciesSeconds: number[];
  costUsd: number;
}

export interface PolicyFigures {
  /** Per-pipeline figures and the cost per run are the 20-pipeline execution's. */
  transitionsPerPipeline: number;
  lambdaInvocationsPerPipeline: number;
  /** null when no pipeline of the run was seen to end. */
  p50DetectionLatencySeconds: number | null;
  p95DetectionLatencySeconds: number | null;
  /** With 20 pipelines p95 is the second worst; the worst is worth seeing too. */
  maxDetectionLatencySeconds: number | null;
  /** The larger of the two executions' history, the one that meets the 25,000 limit first. */
  maxHistoryEvents: number;
  costUsdPerRun: number;
  computed: boolean;
  executions: { twentyPipelines: ExecutionFigures; sevenDayApproval: ExecutionFigures };
  failures: { execution: string; error: string; cause: string }[];
}

interface MeasuredPolicy {
  settings?: Partial<StageConfig>;
  /** How CodePipeline's events reach the event function (the world's default: all, 0.5-1.5 s late). */
  events?: Partial<EventDelivery>;
  /** Whether the pipelines' past runs are visible: the usual fixed poll never looks at them. */
  learnsFromHistory: boolean;
}

/** How each measured policy runs; `events` is serverless.yml's default params (completion: events). */
const measuredPolicies: Record<Exclude<PolicyName, 'eventDriven'>, MeasuredPolicy> = {
  events: { learnsFromHistory: true },
  eventsDrop10: { events: { drop: { rate: 0.1 } }, learnsFromHistory: true },
  eventsAllDropped: { events: { off: true }, learnsFromHistory: true },
  poll: { settings: { completion: 'poll' }, learnsFromHistory: true },
  fixed30: { settings: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll' }, learnsFromHistory: false },
};

function detectionLatencies(report: RunReport): number[] {
  const results = (report.output as { pipelines?: PipelineResult[] } | undefined)?.pipelines ?? [];
  return results
    .filter((result) => result.status === 'Succeeded')
    .map((result) => (Date.parse(result.detectedAt!) - Date.parse(result.finishedAt!)) / 1000);
}

async function runExecution(workload: Workload, order: string[], { settings, events, learnsFromHistory }: MeasuredPolicy) {
  // A fresh engine per execution: both start at the world's startTime, on their own clock.
  const base: World = learnsFromHistory ? workload.world : workload.worldWithoutHistory;
  const world = events ? { ...base, events: { ...base.events, ...events } } : base;
  const engine = await LocalEngine.create({ world, ...(settings ? { settings } : {}) });
  const report = await engine.run({ input: { order } });
  return figuresOf(report, order.length, engine.completionUsage());
}

function figuresOf(report: RunReport, pipelines: number, completion?: CompletionUsage): ExecutionFigures {
  const usage: Usage = report.stats;
  return {
    status: report.status,
    ...(report.error !== undefined ? { error: report.error } : {}),
    ...(report.cause !== undefined ? { cause: report.cause } : {}),
    pipelines,
    stateTransitions: report.stats.stateTransitions,
    historyEvents: report.stats.historyEvents,
    lambdaInvocations: report.stats.lambdaInvocations,
    simulatedSeconds: report.stats.simulatedSeconds,
    detectionLatenciesSeconds: detectionLatencies(report),
    // The state machine's transitions and Tasks, plus (events) the event function, sweeps and table requests.
    costUsd: round(costUsd(usage) + (completion ? completionCostUsd(completion) : 0), 6),
  };
}

/**
 * The ideal the polling loop is compared with: EventBridge reports each pipeline's end once,
 * nothing polls. The smallest Standard machine that does it:
 *
 *   DecideOrder (Lambda Task) → StartPipelineAndWait (lambda:invoke.waitForTaskToken)
 *     → PipelineEnded? (Choice: failed → Fail, more left → StartPipelineAndWait, else → Done)
 *
 * Per pipeline that is 2 state transitions (the callback Task and the Choice; the index moves
 * on inside the Task's result) and 2 Lambda invocations: the one that starts the pipeline and
 * parks the task token, and the one an EventBridge rule on the pipeline's terminal
 * "CodePipeline Pipeline Execution State Change" invokes to call SendTaskSuccess (EventBridge
 * cannot call SendTaskSuccess itself). Once per execution: DecideOrder and the closing state,
 * 2 transitions and 1 invocation. AWS service events on the default bus cost nothing.
 *
 * History, counted as local/history.ts counts it: ExecutionStarted and the closing event 1
 * each; DecideOrder 5 (Entered, Scheduled, Started, Succeeded, Exited); the callback Task 6
 * (Entered, Scheduled, Started, Submitted, Succeeded, Exited); a Choice or Succeed state 2.
 */
function eventDrivenExecution(pipelines: number): ExecutionFigures {
  const stateTransitions = 2 * pipelines + 2;
  const lambdaInvocations = 2 * pipelines + 1;
  return {
    status: 'SUCCEEDED',
    pipelines,
    stateTransitions,
    historyEvents: 1 + 5 + 8 * pipelines + 2 + 1,
    lambdaInvocations,
    simulatedSeconds: null,
    detectionLatenciesSeconds: Array.from({ length: pipelines }, () => 0),
    costUsd: round(costUsd({ stateTransitions, lambdaInvocations }), 6),
  };
}

function summarise(
  twentyPipelines: ExecutionFigures,
  sevenDayApproval: ExecutionFigures,
  computed: boolean,
): PolicyFigures {
  const latencies = twentyPipelines.detectionLatenciesSeconds;
  const executions = { twentyPipelines, sevenDayApproval };
  return {
    transitionsPerPipeline: round(twentyPipelines.stateTransitions / twentyPipelines.pipelines, 2),
    lambdaInvocationsPerPipeline: round(twentyPipelines.lambdaInvocations / twentyPipelines.pipelines, 2),
    // A run that failed before any end was seen has no latency to report; 0 would flatter it.
    p50DetectionLatencySeconds: latencies.length > 0 ? percentile(latencies, 0.5) : null,
    p95DetectionLatencySeconds: latencies.length > 0 ? percentile(latencies, 0.95) : null,
    maxDetectionLatencySeconds: latencies.length > 0 ? Math.max(...latencies) : null,
    maxHistoryEvents: Math.max(twentyPipelines.historyEvents, sevenDayApproval.historyEvents),
    costUsdPerRun: round(twentyPipelines.costUsd, 6),
    computed,
    executions,
    failures: Object.entries(executions)
      .filter(([, figures]) => figures.status !== 'SUCCEEDED')
      .map(([execution, figures]) => ({ execution, error: figures.error ?? 'unknown', cause: figures.cause ?? '' })),
  };
}

export async function compareOrchestration(
  workload: Workload,
  progress: (line: string) => void,
): Promise<Record<PolicyName, PolicyFigures>> {
  const figures = {} as Record<PolicyName, PolicyFigures>;
  for (const [policy, measured] of Object.entries(measuredPolicies) as [PolicyName, MeasuredPolicy][]) {
    const twentyPipelines = await runExecution(workload, workload.order, measured);
    progress(`orchestration: ${policy}, 20 pipelines ${twentyPipelines.status}`);
    const sevenDayApproval = await runExecution(workload, [workload.approval.name], measured);
    progress(`orchestration: ${policy}, 7-day approval ${sevenDayApproval.status}`);
    figures[policy] = summarise(twentyPipelines, sevenDayApproval, false);
  }
  figures.eventDriven = summarise(eventDrivenExecution(workload.order.length), eventDrivenExecution(1), true);
  return figures;
}
