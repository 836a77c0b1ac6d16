import { createHash } from 'node:crypto';

/**
 * The idempotency token for starting the pipeline at `position` in one execution. Derived only
 * from the execution's ARN and the position, so a retried task, a Lambda that crashed after
 * its call, or a redriven execution sends the same token and CodePipeline starts nothing new.
 * Hex of a SHA-256 fits CodePipeline's `^[a-zA-Z0-9-]+$`, 1 to 128 characters.
 */
export function clientRequestToken(executionId: string, position: number): string {
  const digest = createHash('sha256').update(`${executionId}\u0000${position}`).digest('hex');
  return `seq-${position}-${digest}`;
}
