import { createHash } from 'node:crypto';

/**
 * The idempotency token for one start: the train's first execution, the entry's position, the
 * member within it, and the attempt (0, then the redrive count that restarted it, or one past the
 * member's last attempt where that is higher: src/check.ts nextAttempt). A retried
 * task, a Lambda that crashed after its call, or a continuation of the train sends the same
 * token and CodePipeline starts nothing new; a redrive that restarts a failed member sends a
 * new one, so the pipeline really runs again, once per redrive.
 * A pipeline in another account or region adds its location (`remote`): see start.ts.
 * Hex of a SHA-256 fits CodePipeline's `^[a-zA-Z0-9-]+$`, 1 to 128 characters.
 */
export function clientRequestToken(originExecutionArn: string, position: number, member = 0, attempt = 0, remote?: string): string {
  const identity = `${originExecutionArn}\u0000${position}\u0000${member}\u0000${attempt}`;
  const digest = createHash('sha256').update(remote === undefined ? identity : `${identity}\u0000${remote}`).digest('hex');
  return `seq-${position}-${member}-${attempt}-${digest}`;
}
