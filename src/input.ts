// zod/mini: the same validation as zod's classic API, a fraction of the bundle (npm run bench).
import * as z from 'zod/mini';
import { InvalidInput } from './errors.js';
import {
  maxPipelineTimeoutSeconds,
  maxPipelinesPerRun,
  maxVariableValueLength,
  maxVariablesPerExecution,
  pipelineNamePattern,
  sequenceNamePattern,
  variableNamePattern,
} from './names.js';

/**
 * The execution input contract (also what the schedule sends). Strict: an unknown field is
 * InvalidInput, because a typo such as "oder" must not silently run the default sequence.
 */
export const pipelineNameRule = 'must be 1 to 100 characters of A-Z a-z 0-9 . @ - _ (CodePipeline’s rule)';
const pipelineName = z.string({ error: 'must be a string' }).check(z.regex(pipelineNamePattern, pipelineNameRule));

const variableValues = z
  .record(
    z.string().check(z.regex(variableNamePattern, 'variable names are 1 to 128 characters of A-Z a-z 0-9 @ - _')),
    z
      .string({ error: 'must be a string' })
      .check(
        z.minLength(1, 'must not be empty'),
        z.maxLength(maxVariableValueLength, `must be at most ${maxVariableValueLength} characters`),
      ),
    { error: 'must be an object of variable name to string value' },
  )
  .check(
    z.refine(
      (values) => Object.keys(values).length <= maxVariablesPerExecution,
      `at most ${maxVariablesPerExecution} variables per pipeline execution`,
    ),
  );

/** What a parent state machine passes when it starts a run (AWS's convention); only read for continuations. */
const startedByField = 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID';

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
      z.string({ error: 'must be a string' }).check(z.regex(sequenceNamePattern, 'must be 1 to 64 characters of A-Z a-z 0-9 _ -')),
    ),
    variables: z.optional(z.record(pipelineName, variableValues, { error: 'must be an object of pipeline name to variables' })),
    from: z.optional(pipelineName),
    dryRun: z.optional(z.boolean({ error: 'must be true or false' })),
    onSuperseded: z.optional(z.enum(['follow', 'fail'], { error: "must be 'follow' or 'fail'" })),
    onFailure: z.optional(z.enum(['fail', 'wait'], { error: "must be 'fail' or 'wait'" })),
    pipelineTimeoutSeconds: z.optional(
      z
        .number({ error: 'must be a number' })
        .check(
          z.refine((seconds) => Number.isInteger(seconds), 'must be a whole number of seconds'),
          z.minimum(60, 'must be at least 60 seconds'),
          z.maximum(
            maxPipelineTimeoutSeconds,
            `must be at most ${maxPipelineTimeoutSeconds} seconds (60 days, the longest a CodePipeline manual approval can wait)`,
          ),
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

/** A key written bare in a path: what pipeline, variable and field names are made of. */
const bareKey = /^[A-Za-z0-9_.@-]+$/;

/**
 * `order[1]`, `variables.P1.ENV`: the way a user would point at the field. Any other key is a JSON
 * string in brackets (`variables.P1["X\n"]`), so that a message stays one line and carries no
 * terminal escape, whatever the input holds.
 */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    const name = String(key);
    if (!bareKey.test(name)) return `${text}[${JSON.stringify(name)}]`;
    return text === '' ? name : `${text}.${name}`;
  }, '');
}

/**
 * JSON.parse keeps "__proto__" as an ordinary key, but a schema copying it into a plain object
 * drops it silently (it lands on the prototype): find it first and refuse it by name.
 */
function findProtoKey(value: unknown, path: PropertyKey[] = []): PropertyKey[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return [...path, '__proto__'];
  for (const [key, child] of Object.entries(value)) {
    const found = findProtoKey(child, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * How deeply objects and arrays may nest in anything a handler parses. The deepest real input
 * (`variables.P1.ENV` inside a handler's event) is 4 levels; a far deeper one is hostile, and
 * would overflow the stack of a recursive validator, so it is refused before anything recurses.
 */
export const maxNestingDepth = 32;

/** The top-level field holding a value nested deeper than maxNestingDepth, walked without recursion. */
export function tooDeeplyNested(value: unknown): { field: PropertyKey | undefined } | undefined {
  const pending: { value: unknown; depth: number; field: PropertyKey | undefined }[] = [{ value, depth: 1, field: undefined }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > maxNestingDepth) return { field: next.field };
    for (const [key, child] of Object.entries(next.value)) {
      const field = next.field ?? (Array.isArray(next.value) ? Number(key) : key);
      pending.push({ value: child, depth: next.depth + 1, field });
    }
  }
  return undefined;
}

/** Parses one value with a schema, turning the first problem into InvalidInput that names the field. */
export function parseOrThrow<T>(schema: z.ZodMiniType<T>, value: unknown, root: string): T {
  const deep = tooDeeplyNested(value);
  if (deep) {
    const field = deep.field === undefined ? root : fieldPath([deep.field]);
    throw new InvalidInput(`${field}: objects and arrays nested more than ${maxNestingDepth} levels deep; at most ${maxNestingDepth} are accepted`);
  }
  const protoPath = findProtoKey(value);
  if (protoPath) throw new InvalidInput(`${fieldPath(protoPath)}: '__proto__' is a reserved name`);
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = fieldPath(issue.path) || root;
  // The fields a user may write: AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID is set by Step Functions, never by hand.
  const known = schema instanceof z.ZodMiniObject && issue.path.length === 0 ? Object.keys(schema.shape).filter((key) => key !== startedByField) : [];
  const message =
    issue.code === 'invalid_key'
      ? (issue.issues[0]?.message ?? issue.message)
      : issue.code !== 'unrecognized_keys'
        ? issue.message
        : `unknown field ${JSON.stringify(issue.keys[0])}${known.length > 0 ? `; the fields are ${known.join(', ')}` : ''}`;
  throw new InvalidInput(`${field}: ${message}`, { cause: parsed.error });
}
