import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { AlreadyRunning } from './errors.js';
import { toNamedAwsError } from './aws-errors.js';
import { completionTableName, isConditionFailure, numberAttribute, onTable, readItem } from './completion-table.js';
import { stepFunctions } from './stepfunctions.js';
import { nowMs } from './clock.js';

/**
 * The stage's single flight, with completion: events: one item of the completion table per state
 * machine, `lock#<state machine ARN>`, naming the train that holds it (its first execution) and
 * the execution of that train running now. Taken with a conditional write, so two runs started a
 * moment apart can never both hold it (ListExecutions, which poll mode reads, is eventually
 * consistent). A train's continuation and its redrive take it again as the same holder; a holder
 * that is no longer RUNNING (stopped, failed, timed out) is taken over; a train that ends
 * releases it.
 *
 * Every write gives the item a new `taken` mark, and a takeover is conditional on the mark it
 * read: a redrive re-taking the lock writes the same holder and execution, and a takeover decided
 * on the execution's earlier FAILED must not go through after it. A train about to continue names
 * its continuation as the execution holding the lock (`handingOverFrom` itself): until the
 * continuation claims it, the lock is held while the execution handing over runs or succeeded
 * (what a hand-over ends in), so no run slips in between the two.
 *
 * DescribeExecution, which tells whether the holder still runs, is eventually consistent: it "may
 * not reflect very recent updates". Every write also records when (`takenAt`, epoch ms) and in
 * which of the holder's redrives (`holderRedriveCount`, $$.Execution.RedriveCount), so that a
 * takeover trusts no answer older than the lock: an execution that wrote the lock itself a moment
 * ago exists, whatever the answer says, and an answer that counts fewer redrives than the one
 * that wrote the lock has not seen it. (A time alone cannot tell the second: StopExecution does
 * not stop a function already running, so a run stopped during its DecideOrder writes the lock
 * after its end, and must not hold it for ever.)
 */
const lockKey = (stateMachineArn: string) => `lock#${stateMachineArn}`;

export interface RunLockClaim {
  stateMachineArn: string;
  /** The train's first execution: the holder, across its continuations and redrives. */
  originArn: string;
  /** The execution claiming it now. */
  executionArn: string;
}

/** A claim to take the lock: also the claiming execution's $$.Execution.RedriveCount. */
export interface RunLockTaking extends RunLockClaim {
  redriveCount: number;
}

/** How many times a claim tries again when the lock changed between the claim's write and its read. */
const maxChangedInBetween = 3;

/**
 * How long after its holder wrote the lock a DescribeExecution that does not know the holder is
 * taken for lag, not for an execution gone: Step Functions' reads catch up within seconds, and
 * forgets an execution only 90 days after it ended.
 */
export const unknownHolderGraceSeconds = 60;

/** Takes the stage's run lock for this train, or throws AlreadyRunning naming the run that holds it. */
export const takeRunLock = (claim: RunLockTaking): Promise<void> => claimLock(claim, 0);

async function claimLock(claim: RunLockTaking, changedInBetween: number): Promise<void> {
  const key = lockKey(claim.stateMachineArn);
  // Free, or already this train's (a retried DecideOrder, a continuation, a redrive): take it. Not
  // from a later redrive of the same execution, though: a stopped run's DecideOrder, which
  // StopExecution does not stop, may write after the redrive did, and must not record the lower
  // count that would let a lagging DescribeExecution answer pass for the truth (it then finds the
  // lock its redrive's, running, and fails harmlessly).
  const sameTrain = 'holder = :origin AND NOT (holderExecution = :execution AND holderRedriveCount > :redriveCount)';
  const values = { ':origin': { S: claim.originArn }, ':execution': { S: claim.executionArn }, ':redriveCount': { N: String(claim.redriveCount) } };
  if (await putLock(claim, `attribute_not_exists(pk) OR (${sameTrain})`, values)) return;
  const Item = await readItem(key, "the stage's run lock");
  // The lock changed between the write and the read: claim it again, a few times at most, since
  // each time another run must have taken it and let it go in that moment.
  const again = () => {
    if (changedInBetween < maxChangedInBetween) return claimLock(claim, changedInBetween + 1);
    throw new AlreadyRunning(`the stage's run lock changed hands ${maxChangedInBetween + 1} times while this run claimed it: other runs are starting now; nothing was started`);
  };
  if (Item === undefined) return again();
  const holderExecution = Item.holderExecution?.S;
  if (holderExecution === undefined) {
    // No sequencer writes a lock without its execution (written by hand?): it names no run that
    // could still hold it. Take it over, unless it changed meanwhile.
    if (await putLock(claim, 'attribute_exists(pk) AND attribute_not_exists(holderExecution)', {})) return;
    return again();
  }
  const { status, redriveCount } = await executionStatus(holderExecution);
  if (status === 'RUNNING') {
    throw new AlreadyRunning(`another run of this state machine is in progress: ${holderExecution} holds the stage's run lock; nothing was started`);
  }
  const handingOverFrom = Item.handingOverFrom?.S;
  const takenAt = numberAttribute(Item.takenAt);
  const heldForMs = takenAt === undefined ? undefined : nowMs() - takenAt;
  // Not behind a hand-over, the holder wrote the lock itself, so it exists.
  if (status === 'UNKNOWN' && handingOverFrom === undefined && heldForMs !== undefined && heldForMs < unknownHolderGraceSeconds * 1000) {
    throw new AlreadyRunning(
      `another run of this state machine holds the stage's run lock: ${holderExecution} took it ${Math.max(0, Math.round(heldForMs / 1000))} s ago, and Step Functions does not show that execution yet (DescribeExecution is eventually consistent); nothing was started. Start again in a minute if it has ended`,
    );
  }
  const lockRedrives = numberAttribute(Item.holderRedriveCount);
  if (lockRedrives !== undefined && redriveCount !== undefined && lockRedrives > redriveCount) {
    throw new AlreadyRunning(
      `another run of this state machine is in progress: ${holderExecution} took the stage's run lock in its redrive ${lockRedrives}, which Step Functions does not show yet (it answers ${status} after ${redriveCount} redrives; DescribeExecution is eventually consistent); nothing was started`,
    );
  }
  if (status === 'UNKNOWN' && handingOverFrom !== undefined && ['RUNNING', 'SUCCEEDED'].includes((await executionStatus(handingOverFrom)).status)) {
    throw new AlreadyRunning(
      `another run of this state machine is in progress: ${handingOverFrom} is handing its train over to ${holderExecution}, which holds the stage's run lock; nothing was started`,
    );
  }
  // Its holder ended without releasing it (stopped, or failed and not redriven): take it over,
  // unless someone else did first, or its holder took it again (a redrive) since it was read.
  const taken = Item.taken?.S;
  const asRead = taken === undefined ? 'attribute_not_exists(taken)' : 'taken = :taken';
  if (await putLock(claim, `holderExecution = :seen AND ${asRead}`, { ':seen': { S: holderExecution }, ...(taken !== undefined && { ':taken': { S: taken } }) })) return;
  // Refused: the lock changed since it was read. Maybe by another run, maybe by this very write:
  // DynamoDB may apply a write whose answer is lost (a 500, a timeout), and the SDK's retry of it
  // then meets it. The next round tells which: this train's lock is taken again as its own, and
  // another's is refused naming the run that holds it.
  return again();
}

/**
 * Names the continuation about to start as the execution holding the lock, if this train holds
 * it: the execution handing over ends in a moment, and its continuation claims the lock only
 * once it runs. Not held (taken over meanwhile), there is nothing to hand over: the continuation's
 * own claim then finds the lock another run's.
 */
export async function handOverRunLock(claim: RunLockClaim & { successorArn: string }): Promise<void> {
  try {
    await onTable('UpdateItem', "the stage's run lock", ({ sdk, client }) =>
      client.send(
        new sdk.UpdateItemCommand({
          TableName: completionTableName(),
          Key: { pk: { S: lockKey(claim.stateMachineArn) } },
          // The continuation, a new execution, has been redriven no times.
          UpdateExpression: 'SET holderExecution = :successor, handingOverFrom = :current, taken = :taken, takenAt = :takenAt, holderRedriveCount = :none',
          ConditionExpression: 'holder = :origin',
          ExpressionAttributeValues: {
            ':origin': { S: claim.originArn },
            ':successor': { S: claim.successorArn },
            ':current': { S: claim.executionArn },
            ':taken': { S: randomUUID() },
            ':takenAt': { N: String(nowMs()) },
            ':none': { N: '0' },
          },
        }),
      ),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** Releases the lock if this train holds it: the train ended. */
export async function releaseRunLock(claim: Pick<RunLockClaim, 'stateMachineArn' | 'originArn'>): Promise<void> {
  try {
    await onTable('DeleteItem', "the stage's run lock", ({ sdk, client }) =>
      client.send(
        new sdk.DeleteItemCommand({
          TableName: completionTableName(),
          Key: { pk: { S: lockKey(claim.stateMachineArn) } },
          ConditionExpression: 'holder = :origin',
          ExpressionAttributeValues: { ':origin': { S: claim.originArn } },
        }),
      ),
    );
  } catch (error) {
    // Taken over already (this train was thought ended): nothing of ours to release.
    if (!isConditionFailure(error)) throw error;
  }
}

async function putLock(claim: RunLockTaking, condition: string, values: Record<string, AttributeValue>): Promise<boolean> {
  try {
    await onTable('PutItem', "the stage's run lock", ({ sdk, client }) =>
      client.send(
        new sdk.PutItemCommand({
          TableName: completionTableName(),
          Item: {
            pk: { S: lockKey(claim.stateMachineArn) },
            holder: { S: claim.originArn },
            holderExecution: { S: claim.executionArn },
            taken: { S: randomUUID() },
            takenAt: { N: String(nowMs()) },
            holderRedriveCount: { N: String(claim.redriveCount) },
          },
          ConditionExpression: condition,
          // DynamoDB refuses an empty map: a condition without values sends none.
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The execution's status, and how many times it was redriven, as Step Functions answers now. */
async function executionStatus(executionArn: string): Promise<{ status: string; redriveCount?: number }> {
  try {
    const { sdk, client } = await stepFunctions();
    const { status, redriveCount } = await client.send(new sdk.DescribeExecutionCommand({ executionArn }));
    return { status: status ?? 'UNKNOWN', ...(redriveCount !== undefined && { redriveCount }) };
  } catch (error) {
    // A holder Step Functions does not know holds nothing, unless it wrote the lock a moment ago.
    if ((error as { name?: string } | null)?.name === 'ExecutionDoesNotExist') return { status: 'UNKNOWN' };
    throw toNamedAwsError(error, `DescribeExecution ${executionArn}`);
  }
}
