import { z } from 'zod';
import { AwsServiceError } from './errors.js';

/*
 * Request validation with the service's own wording ("1 validation error detected: Value 'x'
 * at 'name' failed to satisfy constraint: ..."), so a handler sees what AWS would tell it.
 */

export function awsString(constraints: { min?: number; max?: number; pattern?: string }) {
  let schema = z.string();
  if (constraints.min !== undefined) {
    schema = schema.min(constraints.min, `Member must have length greater than or equal to ${constraints.min}`);
  }
  if (constraints.max !== undefined) {
    schema = schema.max(constraints.max, `Member must have length less than or equal to ${constraints.max}`);
  }
  if (constraints.pattern !== undefined) {
    // The service matches the whole value, so the documented pattern is anchored here.
    schema = schema.regex(
      new RegExp(`^(?:${constraints.pattern})$`),
      `Member must satisfy regular expression pattern: ${constraints.pattern}`,
    );
  }
  return schema;
}

/**
 * A payload member (an execution's input, a task's output): its limit counts UTF-8 bytes ("Length
 * constraints apply to the payload size, and are expressed as bytes in UTF-8 encoding").
 */
export function awsPayload(maxBytes: number) {
  return z.string().refine((value) => Buffer.byteLength(value, 'utf8') <= maxBytes, `Member must have length less than or equal to ${maxBytes}`);
}

export function awsInteger(constraints: { min: number; max: number }) {
  return z
    .int()
    .min(constraints.min, `Member must have value greater than or equal to ${constraints.min}`)
    .max(constraints.max, `Member must have value less than or equal to ${constraints.max}`);
}

export function awsList<Item extends z.ZodType>(item: Item, constraints: { min: number; max: number }) {
  return z
    .array(item)
    .min(constraints.min, `Member must have length greater than or equal to ${constraints.min}`)
    .max(constraints.max, `Member must have length less than or equal to ${constraints.max}`);
}

export function awsEnum<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, `Member must satisfy enum value set: [${values.join(', ')}]`);
}

/**
 * `sensitive`: the members the service's model marks sensitive (an execution's input, a task's
 * output, an error's cause): a problem with one is told without its value, as AWS tells it
 * ("Value at 'input' failed to satisfy constraint: ..."), never echoing 256 KiB back.
 */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, input: unknown, sensitive: readonly string[] = []): z.output<Schema> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const wrongType = issues.find((issue) => issue.code === 'invalid_type' && issue.input !== undefined);
  if (wrongType) {
    // A value of the wrong JSON type never reaches validation in the real service: it fails to deserialize.
    throw new AwsServiceError('SerializationException', `Unexpected value type at '${memberPath(wrongType.path)}'`);
  }
  const problems = issues.map((issue) => {
    const constraint = issue.code === 'invalid_type' ? 'Member must not be null' : issue.message;
    const member = memberPath(issue.path);
    const value = sensitive.includes(member) ? '' : `${describeValue(issue.input)} `;
    return `Value ${value}at '${member}' failed to satisfy constraint: ${constraint}`;
  });
  const count = `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected`;
  throw new AwsServiceError('ValidationException', `${count}: ${problems.join('; ')}`);
}

/** AWS names list members from 1: `variables.1.member.name`. */
function memberPath(path: PropertyKey[]): string {
  return path
    .map((segment) => (typeof segment === 'number' ? `${segment + 1}.member` : String(segment)))
    .join('.');
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number') return `'${value}'`;
  return `'${JSON.stringify(value)}'`;
}
