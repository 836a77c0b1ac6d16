import { randomUUID } from 'node:crypto';
import type { AttributeValue, DynamoDBClient, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { ConfigurationError } from './errors.js';
import { sentMoreThanOnce, toNamedAwsError } from './aws-errors.js';
import { clientSettings } from './client-settings.js';

/**
 * The stage's completion table: where a waiting run and the end of a pipeline execution meet.
 *
 * - `wait#<train's first execution ARN>`: the run's wait item. The callback Task writes its task
 *   token and the wait's sequence number there (`seq`), on condition that no end was recorded for
 *   this wait (`woken < seq`); the waker records an end (`woken`) and completes the stored token.
 *   A claim (`woken = seq`) keeps what it sends (`wake`) and when (`claimedAt`), so the sweeper can
 *   send it again if the waker died before SendTaskSuccess (`resent` marks that it did). An end
 *   recorded over a claim for the next wait (`woken > seq`) leaves the claimed token stored and
 *   owed: its waker may still die, so the token of any wait with `woken >= seq` is sent again
 *   when in doubt (a closed one is refused, harmlessly); only a new token write (`woken < seq`)
 *   ends that.
 *   One item per train rather than per execution: a continuation goes on with the same item and
 *   numbering, so the watch items below never need re-pointing when the train continues.
 * - `watch#<account>/<region>/<CodePipeline name>#<executionId>`: one per pipeline execution a
 *   run watches, naming the wait item and the stage's name for the pipeline. Keyed by where the
 *   pipeline is (src/targets.ts pipelineKey), as its events say it: namesakes in two accounts or
 *   regions never meet on one item. An event for an execution without one is not ours.
 *
 * Every item carries `expiresAt` (epoch seconds) for DynamoDB's TTL. TTL deletes late, so reads
 * treat an expired item as absent.
 */

type TableSdk = typeof import('./table-sdk.js');
export interface TableClient {
  sdk: TableSdk;
  client: DynamoDBClient;
}

let loaded: Promise<TableClient> | undefined;

const withClient = (sdk: TableSdk): TableClient => ({ sdk, client: new sdk.DynamoDBClient(clientSettings) });

/**
 * The DynamoDB client, created once. check-status, the function a run calls at every look, meets
 * the table only on some looks (the train's end, a continuation, a redrive, a failure held for a
 * retry, an end that came before the run parked, a superseding execution followed, a member found
 * running again after its own end, a group's member found ended by another's wake): it loads the
 * SDK's DynamoDB code at first use, a chunk of its own outside its cold start (esbuild's
 * `splitting`). AWS_ENDPOINT_URL_DYNAMODB points it at the local DynamoDB.
 */
export function tableClient(): Promise<TableClient> {
  loaded ??= import('./table-sdk.js').then(withClient);
  return loaded;
}

/**
 * For the functions that meet the table on every call: they import the SDK's code at their start,
 * with the rest of theirs, which costs them less than a chunk loaded at first use (`npm run bench`).
 */
export function preloadTableClient(sdk: TableSdk): void {
  loaded ??= Promise.resolve(withClient(sdk));
}

/**
 * How long a claim, or an end marked on a watch and not yet recorded on its wait, stands before
 * the sweeper or a retried delivery makes it good: longer than any function's timeout (30 s), so
 * the delivery that made it is surely gone, and a live run has parked again long before.
 */
export const claimGraceSeconds = 60;

/**
 * A wait or watch item outlives the pipeline's deadline by this much: Step Functions' redrive
 * window (14 days after an execution failed or was stopped, which is at the latest its deadline)
 * and a day. A redrive runs the callback Task again with the input it had, expiry included, and
 * an item expired by then would ignore the events and sweeps of a pipeline that still runs.
 */
export const keepAfterDeadlineSeconds = 15 * 24 * 3600;

let cachedTableName: { raw: string | undefined; name: string } | undefined;

/** COMPLETION_TABLE_NAME, which serverless.yml sets from the stage's table. */
export function completionTableName(): string {
  const raw = process.env.COMPLETION_TABLE_NAME;
  if (cachedTableName !== undefined && cachedTableName.raw === raw) return cachedTableName.name;
  if (raw === undefined || !/^[A-Za-z0-9_.-]{3,255}$/.test(raw)) {
    throw new ConfigurationError(`COMPLETION_TABLE_NAME is ${raw === undefined ? 'not set' : `not a table name: '${raw}'`}: deploy with serverless.yml, which sets it`);
  }
  cachedTableName = { raw, name: raw };
  return raw;
}

/** What each kind of item's key starts with: the keys below, the sweeper's Scan, and what an error says it was about. */
const waitPrefix = 'wait#';
const watchPrefix = 'watch#';

export const waitKey = (originExecutionArn: string): string => `${waitPrefix}${originExecutionArn}`;
/** The train's first execution, which `key` (a waitKey) is named after; undefined for any other key. */
export const originOfWait = (key: string): string | undefined => (key.startsWith(waitPrefix) ? key.slice(waitPrefix.length) : undefined);
/** `location` is the pipeline's pipelineKey (account/region/CodePipeline name), never the stage's name alone. */
export const watchKey = (location: string, pipelineExecutionId: string): string => `${watchPrefix}${location}#${pipelineExecutionId}`;

export interface WaitItem {
  key: string;
  /** The sequence number of the last wait whose token was stored. */
  seq: number;
  token?: string;
  /** The highest wait an end was recorded for; a wait whose number is not above it fails its write. */
  woken: number;
  /** Who recorded the last end: `event` or `sweep`. */
  wokenBy?: string;
  /** The execution's redrive count when its token was stored ($$.Execution.RedriveCount). */
  parkedAtRedrive?: number;
  /** The execution that stored the token ($$.Execution.Id): a continuation's successor, not the origin the key names. */
  parkedBy?: string;
  /** The last end recorded on it (what `wake` holds): which execution, in which state. */
  lastEnd?: { pipelineExecutionId: string; state: string; at?: string };
}

export interface WatchItem {
  key: string;
  /** The stage's name for the pipeline: what the sweeper asks CodePipeline about, through its account's role. */
  pipelineName: string;
  pipelineExecutionId: string;
  waitKey: string;
  /** Set once an end of this execution was recorded: a duplicate event finds it and does nothing. */
  ended?: string;
  /**
   * Set with `ended` by the delivery that marked it, and removed once that end is recorded on the
   * wait item (epoch seconds): still here well after, that delivery died in between, and the end
   * reached no wait. Lambda's retry of the delivery, or the sweeper, records it then.
   */
  waking?: number;
  /** The run holds this Failed execution for a retry (onFailure: wait): FAILED does not wake it, RESUMED does (src/retry-hold.ts). */
  held?: boolean;
}

/**
 * Whether an event's state wakes the run watching through this watch item: a held one (src/retry-hold.ts)
 * is woken by anything but FAILED, any other by anything but RESUMED. Here, beside the item, so that
 * the event function does not load the retry hold's CodePipeline calls.
 */
export const wakesWatch = (watch: Pick<WatchItem, 'held'>, state: string): boolean => (watch.held === true ? state !== 'FAILED' : state !== 'RESUMED');

const nowSeconds = (nowMs: number) => Math.floor(nowMs / 1000);
/** A number attribute's value; undefined when the item has none. */
export const numberAttribute = (value: AttributeValue | undefined): number | undefined => (value?.N === undefined ? undefined : Number(value.N));
const isExpired = (item: Record<string, AttributeValue>, nowMs: number) => (numberAttribute(item.expiresAt) ?? Infinity) <= nowSeconds(nowMs);

/**
 * One call to the completion table, its failure named as every AWS failure is, saying which table
 * and what for (`the run lock`, `a watch`...), and for a table that is not there, what to do.
 */
export async function onTable<T>(operation: string, purpose: string, send: (table: TableClient) => Promise<T>): Promise<T> {
  try {
    return await send(await tableClient());
  } catch (error) {
    // A refused condition is an answer for the caller; a missing table name is ours to report as it is.
    if (['ConditionalCheckFailedException', 'ConfigurationError'].includes((error as { name?: string }).name ?? '')) throw error;
    const missing = (error as { name?: string }).name === 'ResourceNotFoundException' ? `; the stage's completion table is missing: deploy the stage again` : '';
    throw toNamedAwsError(error, `DynamoDB ${operation} on ${completionTableName()} (${purpose}${missing})`);
  }
}

export const isConditionFailure = (error: unknown): boolean => (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/** Remembers that `waitKey`'s run watches this execution, until `expiresAtMs`. */
export async function putWatch(item: {
  location: string;
  pipelineName: string;
  pipelineExecutionId: string;
  waitKey: string;
  expiresAtMs: number;
  held?: boolean;
}): Promise<void> {
  await onTable('PutItem', 'a watch of a pipeline execution', ({ sdk, client }) =>
    client.send(
      new sdk.PutItemCommand({
        TableName: completionTableName(),
        Item: {
          pk: { S: watchKey(item.location, item.pipelineExecutionId) },
          pipelineName: { S: item.pipelineName },
          pipelineExecutionId: { S: item.pipelineExecutionId },
          waitKey: { S: item.waitKey },
          expiresAt: { N: String(nowSeconds(item.expiresAtMs)) },
          ...(item.held === true && { held: { BOOL: true } }),
        },
      }),
    ),
  );
}

export async function getWatch(location: string, pipelineExecutionId: string, nowMs: number): Promise<WatchItem | undefined> {
  const key = watchKey(location, pipelineExecutionId);
  const Item = await readItem(key, 'a watch of a pipeline execution');
  if (!Item || isExpired(Item, nowMs)) return undefined;
  return toWatch(Item);
}

function toWatch(item: Record<string, AttributeValue>): WatchItem {
  return {
    key: item.pk!.S!,
    pipelineName: item.pipelineName!.S!,
    pipelineExecutionId: item.pipelineExecutionId!.S!,
    waitKey: item.waitKey!.S!,
    ...(item.ended?.S !== undefined && { ended: item.ended.S }),
    ...(item.waking?.N !== undefined && { waking: Number(item.waking.N) }),
    ...(item.held?.BOOL === true && { held: true }),
  };
}

/**
 * Marks the watched execution ended, once: false when it was marked already (a duplicate).
 * `wakingAtMs`, for an end that is to wake the run: marks it as not yet recorded on the wait item
 * (`waking`) until finishWaking.
 */
export async function markWatchEnded(watch: WatchItem, state: string, wakingAtMs?: number): Promise<boolean> {
  return updateIf(
    watch.key,
    {
      UpdateExpression: wakingAtMs === undefined ? 'SET ended = :state' : 'SET ended = :state, waking = :waking',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(ended)',
      ExpressionAttributeValues: { ':state': { S: state }, ...(wakingAtMs !== undefined && { ':waking': { N: String(nowSeconds(wakingAtMs)) } }) },
    },
    'markedBy',
  );
}

/** The end is recorded on the wait item: the mark set at `wakingAtMs` goes, if it is still that one. */
export async function finishWaking(watch: WatchItem, wakingAtMs: number): Promise<void> {
  await updateIf(watch.key, { UpdateExpression: 'REMOVE waking', ConditionExpression: 'waking = :waking', ExpressionAttributeValues: { ':waking': { N: String(nowSeconds(wakingAtMs)) } } });
}

/**
 * Takes over the waking of an end whose delivery died before recording it (its `waking` mark as
 * read, stale): false when another retry or sweep took it first.
 */
export async function takeOverWaking(watch: WatchItem & { waking: number }, nowMs: number): Promise<boolean> {
  return updateIf(
    watch.key,
    {
      UpdateExpression: 'SET waking = :now',
      ConditionExpression: 'waking = :seen',
      ExpressionAttributeValues: { ':now': { N: String(nowSeconds(nowMs)) }, ':seen': { N: String(watch.waking) } },
    },
    'markedBy',
  );
}

/** One item, read consistently (a conditional write of the other party's must show), expired or not; `purpose` as onTable's. */
export async function readItem(key: string, purpose: string): Promise<Record<string, AttributeValue> | undefined> {
  const { Item } = await onTable('GetItem', purpose, ({ sdk, client }) => client.send(new sdk.GetItemCommand({ TableName: completionTableName(), Key: { pk: { S: key } }, ConsistentRead: true })));
  return Item;
}

/**
 * One UpdateItem on condition: false when the condition does not hold (the item is not as the caller read or expects it).
 *
 * A write whose success decides what its caller does next (the one mark of an end, its record on
 * the wait) names an attribute `ownMark`, which it sets to a value of its own. DynamoDB may apply a
 * write and still answer 500 or time out, and the SDK's retry of it then meets the write itself:
 * refused after more than one attempt, the item is read, and holding that value, the write was ours.
 */
async function updateIf(key: string, update: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>, ownMark?: string): Promise<boolean> {
  const purpose = key.startsWith(waitPrefix) ? "a run's wait" : 'a watch of a pipeline execution';
  const mark = ownMark === undefined ? undefined : { attribute: ownMark, value: randomUUID() };
  const sent = mark === undefined ? update : { ...update, UpdateExpression: `${update.UpdateExpression}, ${mark.attribute} = :ownMark`, ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':ownMark': { S: mark.value } } };
  try {
    await onTable('UpdateItem', purpose, ({ sdk, client }) => client.send(new sdk.UpdateItemCommand({ TableName: completionTableName(), Key: { pk: { S: key } }, ...sent })));
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    if (mark === undefined || !sentMoreThanOnce(error)) return false;
    return (await readItem(key, purpose))?.[mark.attribute]?.S === mark.value;
  }
}

/**
 * Opens a watch marked ended again, if it is still marked with this state: the end it recorded
 * woke nobody (SendTaskSuccess failed), so Lambda's retry of the invocation, or the sweeper, must
 * find it open.
 */
export async function reopenWatch(watch: WatchItem, state: string): Promise<void> {
  await updateIf(watch.key, { UpdateExpression: 'REMOVE ended, waking', ConditionExpression: 'ended = :state', ExpressionAttributeValues: { ':state': { S: state } } });
}

/**
 * What the sweeper sends, beside ends, to make a run look now: its execution no longer exists
 * (`GONE`), or no retry of its held failure can come any more (`UNRETRIABLE`). Either way the
 * run's own look decides, and may find the execution running after all. Neither marks the watch.
 */
export const lookNowStates: ReadonlySet<string> = new Set(['GONE', 'UNRETRIABLE']);

/**
 * Opens a watch marked ended, whatever the state it was marked with: the run's look found the
 * execution running again (someone retried its failed stage in CodePipeline since the end that
 * marked it), so the end to come must find it open. Not while a delivery is recording an end
 * (its `waking` mark): that end may be a new one, after the look, and its wake makes the run look
 * again; a delivery that died with its mark on is taken over by the sweeper, whose wake does too.
 */
export async function reopenRunningWatch(key: string): Promise<void> {
  await updateIf(key, { UpdateExpression: 'REMOVE ended', ConditionExpression: 'attribute_exists(ended) AND attribute_not_exists(waking)' });
}

/**
 * Gives back a claim (`woken = seq`) whose token could not be completed, if nothing moved since:
 * the wait is parked again, so a retried delivery or the sweeper completes it. Had the run moved
 * on (its wait timed out, it looked and parked again), the claim is left as it is.
 */
export async function unclaim(wait: WaitItem & { token: string }): Promise<void> {
  // The end the claim recorded (`wake`) goes with it: a delivery that takes over a dead one's end
  // and finds that end on the wait would take it as recorded, and only send a token nobody claims.
  const previous =
    wait.woken === 0
      ? { update: 'REMOVE woken, wokenBy, #wake', values: {} }
      : {
          update: wait.wokenBy === undefined ? 'SET woken = :woken REMOVE wokenBy, #wake' : 'SET woken = :woken, wokenBy = :by REMOVE #wake',
          values: { ':woken': { N: String(wait.woken) }, ...(wait.wokenBy !== undefined && { ':by': { S: wait.wokenBy } }) },
        };
  await updateIf(wait.key, {
    UpdateExpression: previous.update,
    ConditionExpression: 'seq = :seq AND woken = :seq AND #token = :token',
    ExpressionAttributeNames: { '#token': 'token', '#wake': 'wake' },
    ExpressionAttributeValues: { ...previous.values, ':seq': { N: String(wait.seq) }, ':token': { S: wait.token } },
  });
}

export async function getWait(key: string, nowMs: number): Promise<WaitItem | undefined> {
  const Item = await readItem(key, "a run's wait");
  if (!Item || isExpired(Item, nowMs)) return undefined;
  return {
    key,
    seq: numberAttribute(Item.seq) ?? 0,
    woken: numberAttribute(Item.woken) ?? 0,
    ...(Item.token?.S !== undefined && { token: Item.token.S }),
    ...(Item.wokenBy?.S !== undefined && { wokenBy: Item.wokenBy.S }),
    ...(Item.parkedAtRedrive?.N !== undefined && { parkedAtRedrive: Number(Item.parkedAtRedrive.N) }),
    ...(Item.parkedBy?.S !== undefined && { parkedBy: Item.parkedBy.S }),
    ...(Item.wake?.S !== undefined && { lastEnd: endIn(Item.wake.S) }),
  };
}

function endIn(wake: string): { pipelineExecutionId: string; state: string; at?: string } {
  const { pipelineExecutionId, state, at } = JSON.parse(wake) as { pipelineExecutionId: string; state: string; at?: string };
  return { pipelineExecutionId, state, ...(at !== undefined && { at }) };
}

/**
 * Records an end for wait `woken`, on condition that the item is still as it was read (`seen`:
 * its numbers and its token):
 * optimistic concurrency, so the waker and the token writer never both miss each other. False
 * when the item changed in between; the caller reads again. `output` is what the waker sends
 * the run: kept (`wake`), so the sweeper can send it again for a claim no delivery completed.
 */
export async function recordEnd(
  key: string,
  seen: WaitItem | undefined,
  woken: number,
  output: { by: string },
  expiresAtMs: number,
  nowMs: number,
): Promise<boolean> {
  // Both numbers start at 1 when written: 0 read means the attribute is absent, and must still be.
  const values: Record<string, AttributeValue> = {};
  const same = (attribute: 'seq' | 'woken', value: number) => {
    if (value === 0) return `attribute_not_exists(${attribute})`;
    values[`:seen_${attribute}`] = { N: String(value) };
    return `${attribute} = :seen_${attribute}`;
  };
  // The token too: a redriven execution parks the same wait again (same seq) with a new token, and
  // a claim of the old one would leave the new one parked with nobody left to complete it.
  const token = seen?.token === undefined ? 'attribute_not_exists(#token)' : '#token = :seen_token';
  if (seen?.token !== undefined) values[':seen_token'] = { S: seen.token };
  const asRead = `${same('seq', seen?.seq ?? 0)} AND ${same('woken', seen?.woken ?? 0)} AND ${token}`;
  // Read as absent may be an item past its TTL that DynamoDB has not deleted yet: as absent it stays.
  if (seen === undefined) values[':now'] = { N: String(nowSeconds(nowMs)) };
  // A claim says when it was made, apart from the ends recorded over it since: those must not keep
  // putting off the sweeper's resend of a claim whose waker died (a gone pipeline's end, each sweep).
  const claim = seen?.token !== undefined && woken === seen.seq;
  return updateIf(
    key,
    {
      UpdateExpression: `SET woken = :woken, wokenBy = :by, wokenAt = :at, #wake = :wake, expiresAt = if_not_exists(expiresAt, :expires)${claim ? ', claimedAt = :at' : ''}`,
      ConditionExpression: seen === undefined ? `(${asRead}) OR expiresAt <= :now` : asRead,
      ExpressionAttributeNames: { '#wake': 'wake', '#token': 'token' },
      ExpressionAttributeValues: {
        ...values,
        ':woken': { N: String(woken) },
        ':by': { S: output.by },
        ':at': { N: String(nowSeconds(nowMs)) },
        ':wake': { S: JSON.stringify(output) },
        ':expires': { N: String(nowSeconds(expiresAtMs)) },
      },
    },
    // A claim's own mark: an end recorded over it for the next wait (a group's other member) must
    // not overwrite it before this write's retry reads it.
    claim ? 'claimedBy' : 'recordedBy',
  );
}

/** A claimed wait whose claimer may have died before SendTaskSuccess: its token, and what the claim was to send. */
export interface StaleClaim {
  key: string;
  seq: number;
  token: string;
  output: string;
}

/** Marks a stale claim sent again, so the next sweep leaves it alone. */
export async function markResent(claim: StaleClaim): Promise<void> {
  await updateIf(claim.key, {
    UpdateExpression: 'SET resent = :seq',
    ConditionExpression: 'seq = :seq AND woken >= :seq',
    ExpressionAttributeValues: { ':seq': { N: String(claim.seq) } },
  });
}

// The sweeper's filter: an open watch, or a claim not yet sent again. Written without nesting
// parentheses (AND binds tighter than OR in DynamoDB's expressions): the local table's parser
// (dynalite's) takes time exponential in their nesting, 12 to 30 ms a sweep for the nested form
// this replaced, against under 1 ms, and a run sweeps once for each pipeline's end. An item past
// its TTL is left to the loop below, which ignores it as every reader of the table does.
const openWatch = 'begins_with(pk, :watch) AND attribute_not_exists(ended)';
const endNotRecorded = 'begins_with(pk, :watch) AND waking <= :claimedBefore';
const claimNotSentAgain = (claimedBefore: string) =>
  `begins_with(pk, :wait) AND woken >= seq AND attribute_exists(#token) AND ${claimedBefore} AND (attribute_not_exists(resent) OR resent <> seq)`;
const claimed = claimNotSentAgain('claimedAt <= :claimedBefore');
// A claim an earlier release made, without `claimedAt`: its last end recorded stands for it.
const claimedByAnEarlierRelease = claimNotSentAgain('attribute_not_exists(claimedAt) AND wokenAt <= :claimedBefore');

/**
 * One Scan for the sweeper:
 * - every watch item not yet marked ended: what it asks CodePipeline about;
 * - every watch marked ended whose end was not recorded on its wait by `claimedBeforeMs` (its
 *   `waking` mark): the delivery that marked it died in between;
 * - every wait claimed (`woken >= seq`, its token stored) at or before `claimedBeforeMs`, and
 *   not sent again yet. A live run parks again seconds after it is woken, so such a claim is
 *   either a train that ended (its token is closed: sending it again is refused, harmlessly,
 *   once) or one whose waker died between its claim and SendTaskSuccess, with no retry of the
 *   delivery left, an end for the next wait recorded over it or not.
 * None past its TTL.
 */
export async function sweepable(nowMs: number, claimedBeforeMs: number): Promise<{ watches: WatchItem[]; claims: StaleClaim[] }> {
  const watches: WatchItem[] = [];
  const claims: StaleClaim[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await onTable('Scan', 'the open watches, for the sweeper', ({ sdk, client }) =>
      client.send(
        new sdk.ScanCommand({
          TableName: completionTableName(),
          FilterExpression: `${openWatch} OR ${endNotRecorded} OR ${claimed} OR ${claimedByAnEarlierRelease}`,
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: {
            ':watch': { S: watchPrefix },
            ':wait': { S: waitPrefix },
            ':claimedBefore': { N: String(nowSeconds(claimedBeforeMs)) },
          },
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      ),
    );
    for (const item of page.Items ?? []) {
      if (isExpired(item, nowMs)) continue;
      if (item.pk!.S!.startsWith(watchPrefix)) watches.push(toWatch(item));
      else if (item.wake?.S !== undefined) claims.push({ key: item.pk!.S!, seq: numberAttribute(item.seq)!, token: item.token!.S!, output: item.wake.S });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { watches, claims };
}
