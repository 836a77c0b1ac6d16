// zod/mini: the same validation as zod's classic API, a fraction of the bundle (npm run bench).
import * as z from 'zod/mini';
import {
  maxPipelineTimeoutSeconds,
  maxPipelinesPerRun,
  maxVariableValueLength,
  maxVariablesPerExecution,
  pipelineNamePattern,
  sequenceNamePattern,
  shownName,
  variableNamePattern,
} from './names.js';
import { parseValue, valueCharacterProblem } from './variable-values.js';

/**
 * The execution input contract (also what the schedule sends). Strict: an unknown field is
 * InvalidInput, because a typo such as "oder" must not silently run the default sequence.
 */
export const pipelineNameRule = 'must be 1 to 100 characters of A-Z a-z 0-9 . @ - _ (CodePipeline’s rule)';
/** A rule's refusal, naming what was given: a name that looks right may hold a character that does not show. */
const refusedAs = (rule: string) => ({ error: (issue: { input?: unknown }) => (typeof issue.input === 'string' ? `${rule}; got ${shownName(issue.input)}` : rule) });
const pipelineName = z.string({ error: 'must be a string' }).check(z.regex(pipelineNamePattern, refusedAs(pipelineNameRule)));

const variableValues = z
  .record(
    z.string().check(z.regex(variableNamePattern, 'variable names are 1 to 128 characters of A-Z a-z 0-9 @ - _')),
    z
      .string({ error: 'must be a string' })
      .check(
        z.minLength(1, 'must not be empty'),
        z.maxLength(maxVariableValueLength, `must be at most ${maxVariableValueLength} characters`),
        // CodePipeline's character rule and the references' syntax need no AWS: named here, beside every other problem of the input.
        z.superRefine((value, context) => {
          // Too long, it is refused for that alone: its text quoted again would swamp the other problems.
          if (value.length > maxVariableValueLength) return;
          const characters = valueCharacterProblem(value);
          if (characters !== undefined) context.addIssue({ code: 'custom', message: characters, input: value });
          try {
            parseValue(value);
          } catch (error) {
            context.addIssue({ code: 'custom', message: (error as Error).message, input: value });
          }
        }),
      ),
    { error: 'must be an object of variable name to string value' },
  )
  .check(
    z.refine(
      (values) => Object.keys(values).length <= maxVariablesPerExecution,
      `at most ${maxVariablesPerExecution} variables per pipeline execution`,
    ),
  );

const timeoutTooLong = `must be at most ${maxPipelineTimeoutSeconds} seconds (60 days, the longest a CodePipeline manual approval can wait)`;

export const executionInputSchema = z.strictObject(
  {
    order: z.optional(
      z
        // Each entry is a name or a group of names: decide-order checks them one by one, naming the entry.
        .array(z.unknown(), { error: 'must be an array of pipeline names' })
        .check(
          z.minLength(1, 'must name at least one pipeline'),
          z.maxLength(maxPipelinesPerRun, `must name at most ${maxPipelinesPerRun} pipelines`),
        ),
    ),
    sequence: z.optional(
      z.string({ error: 'must be a string' }).check(z.regex(sequenceNamePattern, refusedAs('must be 1 to 64 characters of A-Z a-z 0-9 _ -'))),
    ),
    variables: z.optional(z.record(pipelineName, variableValues, { error: 'must be an object of pipeline name to variables' })),
    from: z.optional(pipelineName),
    dryRun: z.optional(z.boolean({ error: 'must be true or false' })),
    onSuperseded: z.optional(z.enum(['follow', 'fail'], { error: "must be 'follow' or 'fail'" })),
    onFailure: z.optional(z.enum(['fail', 'wait'], { error: "must be 'fail' or 'wait'" })),
    pipelineTimeoutSeconds: z.optional(
      z
        // JSON's 1e309 parses as Infinity, which zod refuses as no number: it is one, only too large.
        .number({ error: (issue) => (typeof issue.input === 'number' ? timeoutTooLong : 'must be a number') })
        .check(
          z.refine((seconds) => Number.isInteger(seconds), 'must be a whole number of seconds'),
          z.minimum(60, 'must be at least 60 seconds'),
          z.maximum(maxPipelineTimeoutSeconds, timeoutTooLong),
        ),
    ),
    // Written by the schedule (deploy/operations.cjs), never by a person: how a scheduled start
    // that finds a run in flight ends (stage param scheduleWhenBusy), and when Scheduler fired.
    scheduled: z.optional(
      z.strictObject(
        {
          whenBusy: z.enum(['skip', 'fail'], { error: "must be 'skip' or 'fail'" }),
          at: z.optional(z.string({ error: 'must be a string' })),
        },
        { error: 'must be an object: { whenBusy, at }' },
      ),
    ),
    // What a parent state machine passes when it starts a run (AWS's convention); only read for continuations.
    AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: z.optional(z.string({ error: 'must be an execution ARN' })),
  },
  { error: 'must be a JSON object' },
);

export type ExecutionInput = z.infer<typeof executionInputSchema>;
