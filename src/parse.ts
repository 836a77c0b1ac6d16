// One refusal naming every field wrong in an event or an input, for any zod/mini schema. A module
// of its own, apart from the execution input's schema (src/input.ts): a function that parses other
// input (the event function, say) then never builds that schema, nor loads what it needs, at its
// cold start.
import * as z from 'zod/mini';
import { InvalidInput } from './errors.js';
import { closestName, fieldPath, maxNestingDepth, quoted, tooDeeplyNested } from './field-path.js';

/** What a parent state machine passes when it starts a run (AWS's convention); set by Step Functions, never by hand. */
const startedByField = 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID';

/**
 * JSON.parse keeps "__proto__" as an ordinary key, but a schema copying it into a plain object
 * drops it silently (it lands on the prototype): find it first and refuse it by name.
 */
function findProtoKey(value: unknown, path: PropertyKey[] = []): PropertyKey[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // One path, grown and shrunk as the walk goes (a handler walks its whole input on every call).
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      path.push(index);
      const found = findProtoKey(value[index], path);
      if (found) return found;
      path.pop();
    }
    return undefined;
  }
  if (Object.hasOwn(value, '__proto__')) return [...path, '__proto__'];
  for (const key of Object.keys(value)) {
    path.push(key);
    const found = findProtoKey((value as Record<string, unknown>)[key], path);
    if (found) return found;
    path.pop();
  }
  return undefined;
}

/** At most this many problems are named in one refusal; the rest are counted. */
export const maxProblemsNamed = 10;

/**
 * One InvalidInput for every problem found, so that a user fixes them all in one go: one problem
 * reads `field: why`, several are numbered (`3 problems: 1) order[1]: ...; 2) ...`).
 */
export function invalidInput(problems: readonly string[], options?: { cause?: unknown }): InvalidInput {
  const unique = [...new Set(problems)];
  if (unique.length === 1) return new InvalidInput(unique[0]!, options);
  const named = unique.slice(0, maxProblemsNamed).map((problem, index) => `${index + 1}) ${problem}`);
  const more = unique.length > maxProblemsNamed ? `; and ${unique.length - maxProblemsNamed} more` : '';
  return new InvalidInput(`${unique.length} problems: ${named.join('; ')}${more}`, options);
}

/** Parses one value with a schema, turning every problem it finds into one InvalidInput that names each field. */
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
  // The fields a user may write: AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID is set by Step Functions, never by hand.
  const known = schema instanceof z.ZodMiniObject ? Object.keys(schema.shape).filter((key) => key !== startedByField) : [];
  // Unknown fields first: a misspelt field often explains the problems after it.
  const issues = [...parsed.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  const problems = issues.map((issue) => {
    const field = fieldPath(issue.path) || root;
    if (issue.code === 'invalid_key') return `${field}: ${issue.issues[0]?.message ?? issue.message}`;
    if (issue.code !== 'unrecognized_keys') return `${field}: ${issue.message}`;
    const fields = issue.path.length === 0 ? known : [];
    const named = issue.keys.map((key) => {
      const meant = closestName(key, fields);
      return `${quoted(key)}${meant !== undefined ? ` (did you mean "${meant}"?)` : ''}`;
    });
    return `${field}: unknown field${named.length > 1 ? 's' : ''} ${named.join(', ')}${fields.length > 0 ? `; the fields are ${fields.join(', ')}` : ''}`;
  });
  throw invalidInput(problems, { cause: parsed.error });
}
