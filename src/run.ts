import * as z from 'zod';
import type { ExpectedDuration } from './polling.js';

/**
 * The state the Step Functions loop carries: `plan` (decided once, never changes) and `run`
 * (the index into the order, the finished pipelines, and the execution being watched).
 * start-pipeline and check-status each take { plan, run, execution } and return the next run.
 */
export interface Plan {
  order: string[];
  count: number;
  /** Where the order came from: `order`, `sequence:<name>` or `default:<name>`. */
  source: string;
  dryRun: boolean;
  variables: Record<string, Record<string, string>>;
  onSuperseded: 'follow' | 'fail';
  pipelineTimeoutSeconds: number;
  polling: { pollSeconds: number; maxPollSeconds: number };
  decidedAt: string;
}

export interface TrackedExecution {
  /** 0-based index into the order. */
  position: number;
  pipelineName: string;
  pipelineExecutionId: string;
  status: string;
  statusSummary?: string;
  /** When we started it (ISO-8601): the pipeline's timeout counts from here. */
  startedAt: string;
  /** When the execution being watched started: ours, or the newer one that superseded it. */
  watchedSince: string;
  finishedAt?: string;
  /** When check-status saw the terminal status: finishedAt + detection latency. */
  detectedAt?: string;
  waitSeconds: number;
  polls: number;
  expected?: ExpectedDuration;
  /** Our execution first, then each that superseded it, when onSuperseded is `follow`. */
  supersededExecutionIds: string[];
  /** For a non-success: the error name the Fail state raises, and its cause. */
  error?: string;
  cause?: string;
}

export interface PipelineResult {
  position: number;
  pipelineName: string;
  pipelineExecutionId: string;
  status: string;
  startedAt: string;
  finishedAt: string;
  detectedAt: string;
  polls: number;
  supersededExecutionIds: string[];
}

export interface Run {
  index: number;
  results: PipelineResult[];
  current?: TrackedExecution;
}

export interface ExecutionRef {
  /** The execution's ARN ($$.Execution.Id). */
  id: string;
  name: string;
}

/**
 * What start-pipeline and check-status accept. The state machine builds it, so a mismatch is a
 * bug in the definition, reported as InvalidInput naming the field rather than a TypeError.
 */
const expectedSchema = z.strictObject({
  fastestSeconds: z.number(),
  slowestSeconds: z.number(),
  samples: z.number(),
});

const trackedSchema = z.strictObject({
  position: z.number().int().min(0),
  pipelineName: z.string(),
  pipelineExecutionId: z.string(),
  status: z.string(),
  statusSummary: z.string().optional(),
  startedAt: z.iso.datetime(),
  watchedSince: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  detectedAt: z.iso.datetime().optional(),
  waitSeconds: z.number(),
  polls: z.number().int(),
  expected: expectedSchema.optional(),
  supersededExecutionIds: z.array(z.string()),
  error: z.string().optional(),
  cause: z.string().optional(),
});

const resultSchema = z.strictObject({
  position: z.number().int(),
  pipelineName: z.string(),
  pipelineExecutionId: z.string(),
  status: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  detectedAt: z.string(),
  polls: z.number().int(),
  supersededExecutionIds: z.array(z.string()),
});

export const planSchema = z.strictObject({
  order: z.array(z.string()).min(1),
  count: z.number().int().min(1),
  source: z.string(),
  dryRun: z.boolean(),
  variables: z.record(z.string(), z.record(z.string(), z.string())),
  onSuperseded: z.enum(['follow', 'fail']),
  pipelineTimeoutSeconds: z.number().int().positive(),
  polling: z.strictObject({ pollSeconds: z.number().int().positive(), maxPollSeconds: z.number().int().positive() }),
  decidedAt: z.iso.datetime(),
});

export const stepInputSchema = z.strictObject({
  plan: planSchema,
  run: z.strictObject({
    index: z.number().int().min(0),
    results: z.array(resultSchema),
    current: trackedSchema.optional(),
  }),
  execution: z.strictObject({ id: z.string().min(1), name: z.string().min(1) }),
});

export type StepInput = z.infer<typeof stepInputSchema>;
