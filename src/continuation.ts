import { createHash } from 'node:crypto';
import { maxExecutionNameLength } from './names.js';

/**
 * Names of a train's executions. The n-th execution (n >= 2) of a train whose first execution
 * is `release-42` is `release-42-g<n>`: derived only from the first name and n, so a retried
 * StartExecution names the same execution (Step Functions returns the running one) and never
 * forks the train. A first name too long for the suffix keeps its head and a digest of the whole.
 */
export function successorName(originName: string, generation: number): string {
  const suffix = `-g${generation}`;
  if (originName.length + suffix.length <= maxExecutionNameLength) return `${originName}${suffix}`;
  const digest = createHash('sha256').update(originName).digest('hex').slice(0, 8);
  return `${originName.slice(0, maxExecutionNameLength - suffix.length - digest.length - 1)}-${digest}${suffix}`;
}

/** A name this module would give a continuation: such an execution belongs to a train that began earlier. */
export const looksLikeSuccessor = (name: string): boolean => /-g\d+$/.test(name);

/** The name of the execution before `generation`: the first execution's own name, or the previous successor's. */
export const predecessorName = (originName: string, generation: number): string =>
  generation <= 2 ? originName : successorName(originName, generation - 1);

/** `arn:…:execution:<state machine>:` for a state machine ARN `arn:…:stateMachine:<name>`. */
export const executionArnPrefix = (stateMachineArn: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;

/**
 * The execution a continued one handed the train to: a SUCCEEDED execution's output is
 * `{"continuedAs": ARN}` when it ended at ContinuedAsNew (statemachines/sequencer.asl.yml).
 * Undefined for any other status or output.
 */
export function continuedAs(described: { status?: string; output?: string }): string | undefined {
  if (described.status !== 'SUCCEEDED') return undefined;
  try {
    const parsed = JSON.parse(described.output ?? 'null') as { continuedAs?: unknown } | null;
    return typeof parsed?.continuedAs === 'string' ? parsed.continuedAs : undefined;
  } catch {
    return undefined;
  }
}
