import * as z from 'zod/mini';
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

/**
 * What start-pipeline and check-status accept. The state machine builds it, so a mismatch is a
 * bug in the definition, reported as InvalidInput naming the field rather than a TypeError.
 */
const atLeast = (min: number) => z.int().check(z.minimum(min));
const text = z.string();
const nonEmpty = z.string().check(z.minLength(1));

const expectedSchema = z.strictObject({
  fastestSeconds: z.number(),
  slowestSeconds: z.number(),
  samples: z.number(),
});

const trackedSchema = z.strictObject({
  position: atLeast(0),
  pipelineName: text,
  pipelineExecutionId: text,
  status: text,
  statusSummary: z.optional(text),
  startedAt: z.iso.datetime(),
  watchedSince: z.iso.datetime(),
  finishedAt: z.optional(z.iso.datetime()),
  detectedAt: z.optional(z.iso.datetime()),
  waitSeconds: z.number(),
  polls: atLeast(0),
  expected: z.optional(expectedSchema),
  supersededExecutionIds: z.array(text),
  error: z.optional(text),
  cause: z.optional(text),
});

const resultSchema = z.strictObject({
  position: atLeast(0),
  pipelineName: text,
  pipelineExecutionId: text,
  status: text,
  startedAt: text,
  finishedAt: text,
  detectedAt: text,
  polls: atLeast(0),
  supersededExecutionIds: z.array(text),
});

const planSchema = z.strictObject({
  order: z.array(text).check(z.minLength(1)),
  count: atLeast(1),
  source: text,
  dryRun: z.boolean(),
  variables: z.record(text, z.record(text, text)),
  onSuperseded: z.enum(['follow', 'fail']),
  pipelineTimeoutSeconds: atLeast(1),
  polling: z.strictObject({ pollSeconds: atLeast(1), maxPollSeconds: atLeast(1) }),
  decidedAt: z.iso.datetime(),
});

export const stepInputSchema = z.strictObject({
  plan: planSchema,
  run: z.strictObject({
    index: atLeast(0),
    results: z.array(resultSchema),
    current: z.optional(trackedSchema),
  }),
  execution: z.strictObject({ id: nonEmpty, name: nonEmpty }),
});

export type StepInput = z.infer<typeof stepInputSchema>;
