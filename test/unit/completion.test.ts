import 'aws-sdk-client-mock-jest';
import { jest } from '@jest/globals';
import { CodePipelineClient, GetPipelineExecutionCommand, GetPipelineStateCommand, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { GetItemCommand, type GetItemCommandInput, PutItemCommand, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, type ExecutionStatus, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { clientSettings } from '../../src/client-settings.js';
import { useClock } from '../../src/clock.js';
import { completionOnDynamo } from '../support/completion-table.js';
import { awsError, useStageConfig } from '../support/fixtures.js';

/*
 * The meeting of a waiting run and a pipeline's end, on a real DynamoDB (dynalite, in process):
 * the end is delivered at every point of the interleaving with the callback Task's token write,
 * which is made here exactly as the state machine makes it. Step Functions and CodePipeline are
 * mocked: what matters is whether, and with which token, SendTaskSuccess is called.
 */

const stepFunctions = mockClient(SFNClient);
const codePipeline = mockClient(CodePipelineClient);
const origin = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:train-1';
const waitKey = `wait#${origin}`;
const table = 'completion-test';
const now = Date.parse('2026-01-01T10:00:00Z');
const deadline = new Date(now + 86_400_000).toISOString();

const local = completionOnDynamo(table);

beforeEach(async () => {
  stepFunctions.reset();
  codePipeline.reset();
  // As Step Functions: a token completes once; after that its Task is closed (TaskTimedOut).
  const closed = new Set<string>();
  stepFunctions.on(SendTaskSuccessCommand).callsFake(async ({ taskToken }: { taskToken: string }) => {
    if (closed.has(taskToken)) throw awsError('TaskTimedOut', 400);
    closed.add(taskToken);
    return {};
  });
  useClock({ now: () => now });
  // The sweeper's CodePipeline calls read the stage config to find where each pipeline lives.
  useStageConfig();
});

const run = { origin: { executionArn: origin, executionName: 'train-1' } } as Parameters<typeof local.watching.watchExecutions>[0];
const watch = (pipelineExecutionId: string, pipelineName = 'P1') => local.watching.watchExecutions(run, [{ pipelineName, pipelineExecutionId, deadline }]);

const event = (pipelineExecutionId: string, state: string, pipeline = 'P1') => ({
  version: '0',
  source: 'aws.codepipeline',
  'detail-type': 'CodePipeline Pipeline Execution State Change',
  account: '123456789012',
  region: 'us-east-1',
  detail: { pipeline, 'execution-id': pipelineExecutionId, state, version: '1', 'pipeline-execution-attempt': 1, 'start-time': '2026-01-01T09:00:00Z' },
});

/** The callback Task's UpdateItem, as statemachines/sequencer.asl.yml writes it: parked, or refused because an end came first. */
async function park(seq: number, token: string, expiresAt = now / 1000 + 86_400, parkedBy = origin): Promise<'parked' | 'refused'> {
  try {
    await local.tableClient.send(
      new UpdateItemCommand({
        TableName: process.env.COMPLETION_TABLE_NAME,
        Key: { pk: { S: waitKey } },
        UpdateExpression: 'SET #token = :token, #seq = :seq, #expiresAt = :expiresAt, #parkedAtRedrive = :redrive, #parkedBy = :execution',
        ConditionExpression: 'attribute_not_exists(#woken) OR #woken < :seq',
        ExpressionAttributeNames: { '#token': 'token', '#seq': 'seq', '#woken': 'woken', '#expiresAt': 'expiresAt', '#parkedAtRedrive': 'parkedAtRedrive', '#parkedBy': 'parkedBy' },
        ExpressionAttributeValues: { ':token': { S: token }, ':seq': { N: String(seq) }, ':expiresAt': { N: String(expiresAt) }, ':redrive': { N: '0' }, ':execution': { S: parkedBy } },
      }),
    );
    return 'parked';
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return 'refused';
    throw error;
  }
}

const betweenReadAndWrite = 'between-the-wakers-read-and-write';

/** Runs `between` once, right after the waker reads the wait item and before it writes it: the run's token write lands in that gap. */
async function afterTheWakersRead(between: () => Promise<unknown>): Promise<void> {
  const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
  let pending = true;
  // Added after the client's first call: the client must resolve its stack again at every call.
  dynamo.config.cacheMiddleware = false;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (pending && context.commandName === 'GetItemCommand' && (args.input as GetItemCommandInput).Key?.pk?.S === waitKey) {
        pending = false;
        await between();
      }
      return result;
    },
    { step: 'initialize', name: betweenReadAndWrite },
  );
}

/**
 * Delivers the end once and lets that delivery die after it marked the watch ended and before the
 * end reached the wait item (a Lambda timeout, a crash): its read of the wait item never returns.
 * Resolves once it is stuck there.
 */
async function deliveryDyingBeforeItsClaim(pipelineExecutionId: string, state = 'SUCCEEDED'): Promise<void> {
  const { reached } = await onTheFirstTableCall('GetItemCommand', (input) => input.Key?.pk?.S === waitKey, 'hang');
  void local.completion.onPipelineEvent(event(pipelineExecutionId, state));
  await reached;
}

/**
 * Makes the first completion-table call of `command` whose input `matches` fail (`throw`:
 * throttled past the SDK's retries) or never return (`hang`: the delivery died there); `reached`
 * resolves once that call was made.
 */
async function onTheFirstTableCall(
  command: 'GetItemCommand' | 'UpdateItemCommand',
  matches: (input: { UpdateExpression?: string; Key?: GetItemCommandInput['Key'] }) => boolean,
  behaviour: 'throw' | 'hang',
): Promise<{ reached: Promise<void> }> {
  const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
  let reached = () => {};
  const hit = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let pending = true;
  dynamo.config.cacheMiddleware = false;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      if (pending && context.commandName === command && matches(args.input as { UpdateExpression?: string; Key?: GetItemCommandInput['Key'] })) {
        pending = false;
        reached();
        if (behaviour === 'hang') return new Promise(() => {});
        throw awsError('ProvisionedThroughputExceededException', 400);
      }
      return next(args);
    },
    { step: 'initialize', name: betweenReadAndWrite },
  );
  return { reached: hit };
}

/** Runs `between` once, right after the functions' first UpdateItem that `matches` was answered. */
async function afterTheWrite(matches: (input: UpdateItemCommandInput) => boolean, between: () => Promise<unknown>): Promise<void> {
  const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
  let pending = true;
  dynamo.config.cacheMiddleware = false;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (pending && context.commandName === 'UpdateItemCommand' && matches(args.input as UpdateItemCommandInput)) {
        pending = false;
        await between();
      }
      return result;
    },
    { step: 'initialize', name: betweenReadAndWrite },
  );
}

afterEach(async () => {
  const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
  dynamo.middlewareStack.remove(betweenReadAndWrite);
  dynamo.config.cacheMiddleware = clientSettings.cacheMiddleware;
});

const tokensCompleted = () => stepFunctions.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input.taskToken);

/**
 * Delivers exec-1's end to the run parked on wait 1 (token-1), and its SendTaskSuccess fails once
 * (503): the delivery fails AwsUnavailable. `before` runs first, once the wait is parked.
 */
async function aDeliveryWhoseSendFails(before: () => Promise<unknown> = async () => {}): Promise<void> {
  await watch('exec-1');
  await park(1, 'token-1');
  stepFunctions.on(SendTaskSuccessCommand).rejectsOnce(awsError('ServiceUnavailable', 503)).resolves({});
  await before();
  await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'))).rejects.toMatchObject({ name: 'AwsUnavailable' });
}

/**
 * Delivers the end once and lets that delivery die between its claim and SendTaskSuccess (a
 * Lambda timeout, a crash): its SendTaskSuccess never returns. Resolves once that call was made.
 */
async function deliveryDyingAfterItsClaim(pipelineExecutionId: string, token: string, pipeline = 'P1'): Promise<void> {
  stepFunctions.on(SendTaskSuccessCommand).callsFakeOnce(() => new Promise(() => {}));
  void local.completion.onPipelineEvent(event(pipelineExecutionId, 'SUCCEEDED', pipeline));
  while (!tokensCompleted().includes(token)) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A sweep at once (the waker may still be alive), one a minute on, and one more. */
async function sweepsAtOnceAndAMinuteOn() {
  const atOnce = await local.sweeper.sweep();
  useClock({ now: () => now + 61_000 });
  return { atOnce, later: await local.sweeper.sweep(), after: await local.sweeper.sweep() };
}

/** token-1's claim, left by a waker that died, is sent again by the sweep a minute on, and by no other. */
function expectClaimSentOnceAMinuteOn({ atOnce, later, after }: Awaited<ReturnType<typeof sweepsAtOnceAndAMinuteOn>>): void {
  expect(atOnce).toMatchObject({ watched: 0, resent: [] });
  expect(later).toMatchObject({ watched: 0, resent: ['completed'], failed: 0 });
  expect(after).toMatchObject({ resent: [] });
  expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
}

describe('the end meets the waiting run on one item, whichever comes second', () => {
  it('an end after the token is stored completes that token, once', async () => {
    // Prepare
    await watch('exec-1');
    expect(await park(1, 'token-1')).toBe('parked');

    // Act
    const outcome = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess
    expect(outcome).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1']);
    const output = JSON.parse(stepFunctions.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!);
    expect(output).toMatchObject({ by: 'event', pipelineName: 'P1', pipelineExecutionId: 'exec-1', state: 'SUCCEEDED' });
  });

  it('an end before the token is stored makes the token write fail, so the run looks at once', async () => {
    // Prepare
    await watch('exec-1');

    // Act
    const outcome = await local.completion.onPipelineEvent(event('exec-1', 'FAILED'));

    // Assess
    expect(outcome).toBe('no-wait');
    expect(await park(1, 'token-1')).toBe('refused');
    expect(tokensCompleted()).toEqual([]);
  });

  it('an end between a look and the next token write (the previous wait already woken) refuses that next write', async () => {
    // Prepare: a group; P1's end woke wait 1, the run looked and saw P2 still running.
    await watch('exec-1', 'P1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1'));

    // Act: P2 ends before the run parks again.
    const outcome = await local.completion.onPipelineEvent(event('exec-2', 'SUCCEEDED', 'P2'));

    // Assess
    expect(outcome).toBe('recorded-for-next-wait');
    expect(await park(2, 'token-2')).toBe('refused');
    // The run looked (and saw P2's end); its next wait parks normally.
    expect(await park(3, 'token-3')).toBe('parked');
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  it('a token stored between the waker’s read and its write is completed: the end is not lost', async () => {
    // Prepare: P1's end woke wait 1; P2 ends, and the run parks wait 2 while the waker decides.
    await watch('exec-1', 'P1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1'));
    await afterTheWakersRead(() => park(2, 'token-2'));

    // Act
    const outcome = await local.completion.onPipelineEvent(event('exec-2', 'SUCCEEDED', 'P2'));

    // Assess
    expect(outcome).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-2']);
    expect(await park(3, 'token-3')).toBe('parked');
  });

  it('a redrive that parks the same wait again with a new token between the waker’s read and its claim has that token completed', async () => {
    // Prepare: wait 1 parked with token-1, then the run was stopped (token-1 is closed); the
    // redriven execution runs the same Task with the same input (wait 1) and a new token, landing
    // between the waker's read and its claim.
    await watch('exec-1');
    await park(1, 'token-1');
    stepFunctions.on(SendTaskSuccessCommand, { taskToken: 'token-1' }).rejects(awsError('TaskTimedOut', 400));
    await afterTheWakersRead(() => park(1, 'token-2'));

    // Act
    const outcome = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess: the claim of token-1 was refused (the token changed), and the parked token-2 completed.
    expect(outcome).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-2']);
  });

  it('an end after a refused write is recorded for the wait after it, not lost', async () => {
    // Prepare: wait 1 refused (an end came first), the run looked; another member ends before wait 2.
    await watch('exec-1', 'P1');
    await watch('exec-2', 'P2');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1'));
    expect(await park(1, 'token-1')).toBe('refused');

    // Act
    await local.completion.onPipelineEvent(event('exec-2', 'FAILED', 'P2'));

    // Assess
    expect(await park(2, 'token-2')).toBe('refused');
    expect(await park(3, 'token-3')).toBe('parked');
  });

  it('an end for a wait that timed out meanwhile is recorded for the next wait (TaskTimedOut is an expected answer)', async () => {
    // Prepare
    await watch('exec-1');
    await park(1, 'token-1');
    stepFunctions.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut', 400));

    // Act
    const outcome = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess
    expect(outcome).toBe('recorded-for-next-wait');
    expect(await park(2, 'token-2')).toBe('refused');
  });

  it.each(['TaskDoesNotExist', 'InvalidToken'])('treats %s as a closed wait too', async (answer) => {
    await watch('exec-1');
    await park(1, 'token-1');
    stepFunctions.on(SendTaskSuccessCommand).rejects(awsError(answer, 400));

    await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'))).resolves.toBe('recorded-for-next-wait');
    expect(await park(2, 'token-2')).toBe('refused');
  });

  it('a SendTaskSuccess the SDK sent twice, whose retry meets TaskTimedOut (the first completed it, its answer lost), woke the run: nothing is recorded for the next wait', async () => {
    // Prepare
    await watch('exec-1');
    await park(1, 'token-1');
    stepFunctions.on(SendTaskSuccessCommand).rejectsOnce(awsError('TaskTimedOut', 400, { $metadata: { httpStatusCode: 400, attempts: 2 } }));

    // Act
    const woke = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess: the run's next wait parks, rather than finding an end recorded for it and looking once more.
    expect(woke).toBe('completed');
    expect(await park(2, 'token-2')).toBe('parked');
  });

  it('any other SendTaskSuccess failure is an error, so EventBridge retries the delivery', async () => {
    await watch('exec-1');
    await park(1, 'token-1');
    stepFunctions.on(SendTaskSuccessCommand).rejects(awsError('AccessDeniedException', 400));

    await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'))).rejects.toMatchObject({ name: 'AwsRequestRejected' });
  });

  it('a delivery retried after SendTaskSuccess failed completes the token: the failure gave back the claim and reopened the watch', async () => {
    await aDeliveryWhoseSendFails();
    const retried = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    expect(retried).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
    expect(await park(2, 'token-2')).toBe('parked');
  });

  it('a delivery retried after the function died between claiming the wait and completing its token completes it', async () => {
    // Prepare: the first delivery claims wait 1, then never returns from SendTaskSuccess (a Lambda timeout, a crash).
    await watch('exec-1');
    await park(1, 'token-1');
    await deliveryDyingAfterItsClaim('exec-1', 'token-1');

    // Act: EventBridge's retry of the delivery.
    const retried = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess
    expect(retried).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
  });

  it('after a delivery whose SendTaskSuccess failed and was never retried, the sweeper completes the token', async () => {
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded' } });

    await aDeliveryWhoseSendFails();

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ outcomes: ['completed'] });
  });
});

describe('a delivery whose SendTaskSuccess failed, and another delivery of the same end', () => {
  const isUnclaim = (input: UpdateItemCommandInput) => (input.ConditionExpression ?? '').includes('woken = :seq AND #token = :token');
  const isReopen = (input: UpdateItemCommandInput) => input.UpdateExpression === 'REMOVE ended, waking';
  /** Delivery A of exec-1's end claims wait 1 and its SendTaskSuccess fails; a duplicate D runs right after A's write that `after` picks. D's outcome. */
  const failedDeliveryWithADuplicateAfter = async (after: (input: UpdateItemCommandInput) => boolean): Promise<unknown> => {
    let duplicate: unknown;
    await aDeliveryWhoseSendFails(() =>
      afterTheWrite(after, async () => {
        duplicate = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
      }),
    );
    return duplicate;
  };

  it('a duplicate that marks the watch and wakes the run after the first gave its claim back keeps its mark: the first’s retry is a duplicate, and the next wait stays parked', async () => {
    // Prepare: delivery A claims wait 1, its SendTaskSuccess fails; A opens the watch again and
    // gives the claim back; then a duplicate D marks the watch, claims wait 1 and completes token-1.
    const duplicate = await failedDeliveryWithADuplicateAfter(isUnclaim);
    // The run, woken by D, looked and parked wait 2.
    expect(await park(2, 'token-2')).toBe('parked');

    // Act: Lambda's retry of A.
    const retried = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess: A opened the watch once, before D marked it; D's mark stands.
    expect(duplicate).toBe('completed');
    expect(retried).toBe('duplicate');
    expect(tokensCompleted()).not.toContain('token-2');
  });

  it('a duplicate that records the end over the first’s claim, between its reopen and its unclaim, keeps its mark: the first’s retry sends the claimed token', async () => {
    const duplicate = await failedDeliveryWithADuplicateAfter(isReopen);

    // Act: Lambda's retry of A.
    const retried = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess: the run still parked on token-1 is woken now, not by the sweeper's resend a minute on.
    expect(duplicate).toBe('recorded-for-next-wait');
    expect(retried).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
  });
});

describe('a claim DynamoDB applied but whose answer was lost', () => {
  it('is told its own although another member’s end was recorded over it before the SDK’s retry: the claimed token is sent at once', async () => {
    // Prepare: a group, P1 and P2 watched, wait 1 parked. Delivery A of P1's end claims wait 1;
    // DynamoDB applies the claim and answers 500. Before the SDK's retry, P2's end finds wait 1
    // claimed and records itself for the next wait.
    await watch('exec-1', 'P1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
    const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
    let armed = true;
    let other: unknown;
    dynamo.config.cacheMiddleware = false;
    dynamo.middlewareStack.add(
      (next) => async (args) => {
        const { body } = args.request as { body?: unknown };
        if (!armed || !(body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body ?? '')).includes('claimedAt = :at')) return next(args);
        armed = false;
        await next(args);
        other = await local.completion.onPipelineEvent(event('exec-2', 'SUCCEEDED', 'P2'));
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
      },
      { step: 'deserialize', name: betweenReadAndWrite },
    );

    // Act
    const first = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1'));

    // Assess: A sends token-1 itself, not the sweeper a minute on.
    expect(other).toBe('recorded-for-next-wait');
    expect({ first, tokens: tokensCompleted() }).toEqual({ first: 'completed', tokens: ['token-1'] });
  });
});

describe('a mark its delivery could not clear', () => {
  it('does not turn a later end of the execution (a retry that succeeded) into a duplicate: that end wakes the run', async () => {
    // Prepare: FAILED's delivery woke the run but could not clear its mark; the run's look found
    // the execution running again (a retry) and could not open the watch while the mark was on;
    // it parked wait 2.
    await watch('exec-1');
    await park(1, 'token-1');
    await onTheFirstTableCall('UpdateItemCommand', (input) => input.UpdateExpression === 'REMOVE waking', 'throw');
    await expect(local.completion.onPipelineEvent(event('exec-1', 'FAILED'))).resolves.toBe('completed');
    expect(await park(2, 'token-2')).toBe('parked');

    // Act: the retry succeeds 50 s on, within the mark's grace.
    useClock({ now: () => now + 50_000 });
    const succeeded = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess
    expect(succeeded).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-2']);
  });
});

describe('an end marked on its watch by a delivery that died before the end reached the wait', () => {
  const aMinuteLater = () => useClock({ now: () => now + 61_000 });

  it('is recorded by Lambda’s retry of the delivery a minute on, which completes the parked token; not by a duplicate at once', async () => {
    // Prepare
    await watch('exec-1');
    await park(1, 'token-1');
    await deliveryDyingBeforeItsClaim('exec-1');

    // Act: a duplicate at once (the first delivery may still be alive), then the retry.
    const atOnce = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    aMinuteLater();
    const retried = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    const again = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess
    expect([atOnce, retried, again]).toEqual(['duplicate', 'completed', 'duplicate']);
    // The retry completed it; the duplicate after it sent the claimed token again, refused (TaskTimedOut).
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
    expect(await park(2, 'token-2')).toBe('parked');
  });

  it('after an earlier delivery of that end gave its claim back (SendTaskSuccess failed), the sweep records it anew and completes the parked token', async () => {
    // Prepare: delivery 1 claims, its SendTaskSuccess fails, it gives the claim back and reopens the
    // watch; delivery 2 (Lambda's retry) marks the watch again and dies before recording the end.
    await aDeliveryWhoseSendFails();
    await deliveryDyingBeforeItsClaim('exec-1');

    // Act
    aMinuteLater();
    const swept = await local.sweeper.sweep();

    // Assess: the end delivery 1 had recorded went with its claim; the sweep's takeover records it and wakes the run.
    expect(swept).toMatchObject({ watched: 1, outcomes: ['completed'] });
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
    expect(await park(2, 'token-2')).toBe('parked');
  });

  it('stays marked when an event that wakes nobody (RESUMED, the watch not held) comes a minute on: the sweep then takes it over', async () => {
    // Prepare: the FAILED end's delivery died after marking the watch; a retry's RESUMED comes a minute on.
    await watch('exec-1');
    await park(1, 'token-1');
    await deliveryDyingBeforeItsClaim('exec-1', 'FAILED');
    aMinuteLater();

    // Act
    const resumed = await local.completion.onPipelineEvent(event('exec-1', 'RESUMED'));
    const swept = await local.sweeper.sweep();

    // Assess
    expect(resumed).toBe('not-an-end');
    expect(swept).toMatchObject({ watched: 1, outcomes: ['completed'] });
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  it('is recorded by the takeover although an earlier end of the same execution and state is on the wait (it failed, was retried, failed again)', async () => {
    // Prepare: the first FAILED woke the run (wait 1); its look found the execution running again
    // (a retry), opened the watch again and parked wait 2. The retry failed 30 s on, and that
    // FAILED's delivery died after marking the watch.
    await watch('exec-1');
    await park(1, 'token-1');
    await expect(local.completion.onPipelineEvent(event('exec-1', 'FAILED'))).resolves.toBe('completed');
    await local.tableClient.send(
      new UpdateItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Key: { pk: { S: 'watch#123456789012/us-east-1/P1#exec-1' } }, UpdateExpression: 'REMOVE ended, waking' }),
    );
    expect(await park(2, 'token-2')).toBe('parked');
    useClock({ now: () => now + 30_000 });
    await deliveryDyingBeforeItsClaim('exec-1', 'FAILED');

    // Act: a sweep past the grace.
    useClock({ now: () => now + 91_000 });
    const swept = await local.sweeper.sweep();

    // Assess: the second failure wakes wait 2; the first's record on the wait was not taken for it.
    expect(swept).toMatchObject({ watched: 1, outcomes: ['completed'] });
    expect(tokensCompleted()).toEqual(['token-1', 'token-2']);
  });

  it('with no retry left, is recorded by the next sweep a minute on, once, without asking CodePipeline', async () => {
    // Prepare
    await watch('exec-1');
    await park(1, 'token-1');
    await deliveryDyingBeforeItsClaim('exec-1');

    // Act
    const atOnce = await local.sweeper.sweep();
    aMinuteLater();
    const later = await local.sweeper.sweep();
    const after = await local.sweeper.sweep();

    // Assess
    expect(atOnce).toMatchObject({ watched: 0, outcomes: [] });
    expect(later).toMatchObject({ watched: 1, outcomes: ['completed'], resent: [], failed: 0 });
    expect(after).toMatchObject({ watched: 0, outcomes: [], resent: [] });
    expect(tokensCompleted()).toEqual(['token-1']);
    expect(codePipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(0);
    const [output] = stepFunctions.commandCalls(SendTaskSuccessCommand).map((call) => JSON.parse(call.args[0].input.output!) as unknown);
    expect(output).toMatchObject({ by: 'sweep', pipelineExecutionId: 'exec-1', state: 'SUCCEEDED' });
  });

  it('a failure to clear the mark once the end is on the wait item undoes nothing: the token is completed', async () => {
    // Prepare: the write that clears the mark fails (throttled past the SDK's retries).
    await watch('exec-1');
    await park(1, 'token-1');
    await onTheFirstTableCall('UpdateItemCommand', (input) => input.UpdateExpression === 'REMOVE waking', 'throw');

    // Act
    const outcome = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess
    expect(outcome).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  it('a delivery that died after recording the end and before clearing the mark: the takeover finds the end recorded and wakes no later wait', async () => {
    // Prepare: P1's end woke wait 1; P2's delivery records its end for the next wait, then dies
    // clearing the mark; the run's wait 2 is refused, it looks, goes on, and parks wait 3.
    await watch('exec-1', 'P1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1'));
    const { reached } = await onTheFirstTableCall('UpdateItemCommand', (input) => input.UpdateExpression === 'REMOVE waking', 'hang');
    void local.completion.onPipelineEvent(event('exec-2', 'SUCCEEDED', 'P2'));
    await reached;
    expect([await park(2, 'token-2'), await park(3, 'token-3')]).toEqual(['refused', 'parked']);

    // Act
    aMinuteLater();
    const swept = await local.sweeper.sweep();

    // Assess
    expect(swept).toMatchObject({ watched: 1, outcomes: ['duplicate'] });
    expect(tokensCompleted()).toEqual(['token-1']);
    expect(await local.sweeper.sweep()).toMatchObject({ watched: 0 });
  });

  it('a mark left on a watch held since (onFailure: wait), whose FAILED wakes nobody, is cleared by the next sweep', async () => {
    // Prepare: the delivery of P1's FAILED read the watch unheld, marked it after the run held it, and died.
    const { watchKey } = await import('../../src/completion-table.js');
    await local.tableClient.send(
      new PutItemCommand({
        TableName: process.env.COMPLETION_TABLE_NAME,
        Item: {
          pk: { S: watchKey(local.watching.watchLocation(run, 'P1'), 'exec-1') },
          pipelineName: { S: 'P1' },
          pipelineExecutionId: { S: 'exec-1' },
          waitKey: { S: waitKey },
          expiresAt: { N: String(now / 1000 + 86_400) },
          held: { BOOL: true },
          ended: { S: 'FAILED' },
          waking: { N: String(now / 1000) },
        },
      }),
    );
    aMinuteLater();

    // Act
    const first = await local.sweeper.sweep();
    const second = await local.sweeper.sweep();

    // Assess
    expect(first).toMatchObject({ watched: 1, outcomes: ['not-an-end'] });
    expect(second).toMatchObject({ watched: 0, outcomes: [] });
    expect(tokensCompleted()).toEqual([]);
  });

  it('a retry and a sweep at the same moment record it once', async () => {
    // Prepare
    await watch('exec-1');
    await park(1, 'token-1');
    await deliveryDyingBeforeItsClaim('exec-1');
    aMinuteLater();

    // Act
    const [retried, swept] = await Promise.all([local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED')), local.sweeper.sweep()]);

    // Assess
    expect([retried, ...swept.outcomes].sort()).toEqual(['completed', 'duplicate']);
    expect(tokensCompleted()).toEqual(['token-1']);
  });
});

describe('a claim no delivery completed: the sweeper sends it again, once', () => {
  const aMinuteLater = () => useClock({ now: () => now + 61_000 });
  const outputs = () => stepFunctions.commandCalls(SendTaskSuccessCommand).map((call) => JSON.parse(call.args[0].input.output!) as unknown);

  it('the function died between its claim and SendTaskSuccess, and no retry came: the next sweep a minute on sends the claim’s own output', async () => {
    // Prepare: the delivery claims wait 1, then never returns from SendTaskSuccess (a Lambda timeout), and Lambda's retries are spent.
    await watch('exec-1');
    await park(1, 'token-1');
    await deliveryDyingAfterItsClaim('exec-1', 'token-1');

    // Act
    const sweeps = await sweepsAtOnceAndAMinuteOn();

    // Assess: the watch is ended, so only the claim can wake the run; it does, once.
    expectClaimSentOnceAMinuteOn(sweeps);
    // The claim's own end, as the event noticed it; delivered, and so reported, by the sweeper.
    expect(outputs()[0]).toMatchObject({ by: 'event' });
    expect(outputs()[1]).toEqual({ ...(outputs()[0] as object), by: 'sweep' });
    expect(outputs()[1]).toMatchObject({ pipelineExecutionId: 'exec-1', state: 'SUCCEEDED' });
  });

  it('a claim an earlier release made, without claimedAt: the sweep a minute on still sends it', async () => {
    // Prepare: as above, then the item as a release before claimedAt left it.
    await watch('exec-1');
    await park(1, 'token-1');
    await deliveryDyingAfterItsClaim('exec-1', 'token-1');
    await local.tableClient.send(new UpdateItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Key: { pk: { S: waitKey } }, UpdateExpression: 'REMOVE claimedAt' }));

    // Act
    const sweeps = await sweepsAtOnceAndAMinuteOn();

    // Assess
    expectClaimSentOnceAMinuteOn(sweeps);
  });

  it('a claim whose wait is past its TTL by the next sweep is never sent again (DynamoDB deletes it only days later)', async () => {
    // Prepare: as above, but the wait item expires 30 s after the claim.
    await watch('exec-1');
    await park(1, 'token-1', now / 1000 + 30);
    await deliveryDyingAfterItsClaim('exec-1', 'token-1');

    // Act
    aMinuteLater();
    const later = await local.sweeper.sweep();

    // Assess: only the dying delivery's own SendTaskSuccess.
    expect(later).toMatchObject({ resent: [], failed: 0 });
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  it('a train that ended leaves its last wait claimed: one refused send, harmless, and never again', async () => {
    await watch('exec-1');
    await park(1, 'token-1');
    await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'))).resolves.toBe('completed');

    aMinuteLater();
    await expect(local.sweeper.sweep()).resolves.toMatchObject({ resent: ['duplicate'], failed: 0 });
    await expect(local.sweeper.sweep()).resolves.toMatchObject({ resent: [] });
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
  });

  it('a run that parked again after its wake is sent nothing', async () => {
    await watch('exec-1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    await park(2, 'token-2');
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'InProgress' } });

    aMinuteLater();
    await expect(local.sweeper.sweep()).resolves.toMatchObject({ watched: 1, ended: 0, resent: [] });
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  it('a train whose earlier claim was sent again still has a later stuck claim sent', async () => {
    // Prepare: wait 1 woken as usual, and sent again a minute on (refused: it is marked resent).
    await watch('exec-1');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    aMinuteLater();
    await expect(local.sweeper.sweep()).resolves.toMatchObject({ resent: ['duplicate'] });
    // Wait 2's waker dies between its claim and SendTaskSuccess, and no retry comes.
    await watch('exec-2', 'P2');
    await park(2, 'token-2');
    await deliveryDyingAfterItsClaim('exec-2', 'token-2', 'P2');

    // Act: a sweep a minute after that claim.
    useClock({ now: () => now + 200_000 });
    const swept = await local.sweeper.sweep();

    // Assess
    expect(swept).toMatchObject({ resent: ['completed'] });
    expect(tokensCompleted()).toEqual(['token-1', 'token-1', 'token-2', 'token-2']);
  });

  /**
   * A claim whose delivery's SendTaskSuccess never returned, a minute on: the sweeper's first resend
   * then fails with `error`, and the one after is taken.
   */
  async function staleClaimWhoseResendFails(error: string): Promise<void> {
    await watch('exec-1');
    await park(1, 'token-1');
    stepFunctions
      .on(SendTaskSuccessCommand)
      .callsFakeOnce(() => new Promise(() => {}))
      .rejectsOnce(awsError(error, 400))
      .resolves({});
    void local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    while (tokensCompleted().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    aMinuteLater();
  }

  it('a send throttled past the SDK’s retries is left to the next sweep, which does not fail', async () => {
    await staleClaimWhoseResendFails('ThrottlingException');

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ resent: [], failed: 1 });
    await expect(local.sweeper.sweep()).resolves.toMatchObject({ resent: ['completed'], failed: 0 });
  });

  it('a send that fails is tried again at the next sweep; refused (not passing), it fails that sweep, for the dead-letter queue’s alarm', async () => {
    // Refused in a way the SDK does not retry (a role being fixed, say).
    await staleClaimWhoseResendFails('AccessDeniedException');

    await expect(local.sweeper.sweep()).rejects.toMatchObject({
      name: 'AwsRequestRejected',
      message: expect.stringMatching(/^the sweeper could not wake the run waiting on an execution that ended \(the wait wait#\S+, whose claimed wake no delivery sent: AwsRequestRejected: SendTaskSuccess: AccessDeniedException/) as unknown,
    });
    await expect(local.sweeper.sweep()).resolves.toMatchObject({ resent: ['completed'], failed: 0 });
  });
});

describe('a claim overtaken by an end recorded for the next wait: its token is still owed until it is sent', () => {
  // A group: P1's end claims wait 1; P2's end, before the claimed token is sent, finds nothing
  // parked and records itself for wait 2. The run still sleeps on token-1, and only P1's waker
  // was to send it.
  const aMinuteLater = () => useClock({ now: () => now + 61_000 });
  const groupOfTwoParked = async () => {
    await watch('exec-1', 'P1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
  };

  it('P1’s waker dies before SendTaskSuccess: the retry of its delivery completes token-1', async () => {
    // Prepare
    await groupOfTwoParked();
    await deliveryDyingAfterItsClaim('exec-1', 'token-1', 'P1');
    await expect(local.completion.onPipelineEvent(event('exec-2', 'SUCCEEDED', 'P2'))).resolves.toBe('recorded-for-next-wait');

    // Act: EventBridge's retry of P1's delivery.
    const retried = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1'));

    // Assess: the run is woken, and its next wait is refused, so it looks at once and sees P2's end too.
    expect(retried).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
    expect(await park(2, 'token-2')).toBe('refused');
  });

  it('P1’s waker dies and no retry comes: the sweep a minute after the last end recorded sends token-1, once', async () => {
    // Prepare
    await groupOfTwoParked();
    await deliveryDyingAfterItsClaim('exec-1', 'token-1', 'P1');
    await local.completion.onPipelineEvent(event('exec-2', 'SUCCEEDED', 'P2'));

    // Act
    const sweeps = await sweepsAtOnceAndAMinuteOn();

    // Assess
    expectClaimSentOnceAMinuteOn(sweeps);
  });

  it('P1’s SendTaskSuccess fails after P2’s end was recorded over its claim, so the claim cannot be given back: the next sweep sends token-1', async () => {
    // Prepare: P1's send is held until P2's end is recorded, then throttled past the SDK's retries.
    await groupOfTwoParked();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    stepFunctions.on(SendTaskSuccessCommand).callsFakeOnce(async () => {
      await held;
      throw awsError('ThrottlingException', 400);
    });
    const p1 = local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1')).catch((error: Error) => error.name);
    while (tokensCompleted().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(local.completion.onPipelineEvent(event('exec-2', 'SUCCEEDED', 'P2'))).resolves.toBe('recorded-for-next-wait');
    release();
    await expect(p1).resolves.toBe('AwsUnavailable');
    // Its retry finds the watch reopened and nothing parked: it records the end for a later wait.
    await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED', 'P1'))).resolves.toBe('recorded-for-next-wait');

    // Act
    aMinuteLater();
    const swept = await local.sweeper.sweep();

    // Assess
    expect(swept).toMatchObject({ resent: ['completed'], failed: 0 });
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
  });

  it('P1’s waker dies while P2’s pipeline is gone: the GONE the sweeper records every minute does not put off sending token-1', async () => {
    // Prepare: P1's end claims wait 1 and its waker dies. P2's pipeline was deleted: each sweep asks
    // about it (1.5 s, a role assumed in another account, say) and records GONE for a later wait.
    let clock = now;
    useClock({ now: () => clock });
    await groupOfTwoParked();
    await deliveryDyingAfterItsClaim('exec-1', 'token-1', 'P1');
    codePipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-2' }).callsFake(async () => {
      clock += 1500;
      throw awsError('PipelineNotFoundException', 400);
    });

    // Act: a sweep every minute (sweepSeconds: 60), the first 30 s after the claim.
    const resent: string[] = [];
    for (let sweep = 0; sweep < 3; sweep += 1) {
      clock = now + 30_000 + sweep * 60_000;
      resent.push(...(await local.sweeper.sweep()).resent);
    }

    // Assess: sent by the first sweep a minute after the claim, once.
    expect(resent).toEqual(['completed']);
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
  });

  it('a lone pipeline whose SendTaskSuccess fails, and the claim’s give-back too: its retry records the end for a later wait, and the next sweep sends token-1', async () => {
    // Prepare
    await aDeliveryWhoseSendFails(() => onTheFirstTableCall('UpdateItemCommand', (input) => input.UpdateExpression?.startsWith('REMOVE woken') === true, 'throw'));
    await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'))).resolves.toBe('recorded-for-next-wait');

    // Act
    aMinuteLater();
    const swept = await local.sweeper.sweep();

    // Assess
    expect(swept).toMatchObject({ resent: ['completed'], failed: 0 });
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
  });
});

describe('the event is a hint: every other delivery does nothing harmful', () => {
  it('another train’s end completes that train’s wait, never this one’s', async () => {
    // Prepare: this train parked; another train (another wait item) watches its own execution.
    const otherOrigin = origin.replace('train-1', 'train-2');
    await park(1, 'token-this');
    await local.watching.watchExecutions({ origin: { executionArn: otherOrigin, executionName: 'train-2' } } as typeof run, [{ pipelineName: 'P9', pipelineExecutionId: 'exec-other', deadline }]);

    // Act
    const outcome = await local.completion.onPipelineEvent(event('exec-other', 'SUCCEEDED', 'P9'));

    // Assess: recorded on the other train's item; this train still parked, its token untouched.
    expect(outcome).toBe('no-wait');
    expect(tokensCompleted()).toEqual([]);
    await watch('exec-1');
    await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'))).resolves.toBe('completed');
    expect(tokensCompleted()).toEqual(['token-this']);
  });

  it('a duplicate does nothing: one completion, and the next wait parks', async () => {
    await watch('exec-1');
    await park(1, 'token-1');

    const first = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    const second = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    expect([first, second]).toEqual(['completed', 'duplicate']);
    // The duplicate completes the claimed token again, in case the first delivery died before it
    // had: Step Functions answers TaskTimedOut, the Task being closed, and nothing more happens.
    expect(tokensCompleted()).toEqual(['token-1', 'token-1']);
    expect(await park(2, 'token-2')).toBe('parked');
  });

  it('a duplicate refused at its first attempt reads nothing more to tell whether the mark was its own', async () => {
    // Prepare
    await watch('exec-1');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
    const calls: string[] = [];
    dynamo.config.cacheMiddleware = false;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(`${(context.commandName ?? '').replace(/Command$/, '')} ${String((args.input as { Key?: { pk?: { S?: string } } }).Key?.pk?.S).split('#')[0]}`);
        return next(args);
      },
      { step: 'initialize', name: 'calls' },
    );

    try {
      // Act
      const duplicate = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

      // Assess: the watch read, its mark refused, the wait read to complete a claim again; no second read of the watch.
      expect(duplicate).toBe('duplicate');
      expect(calls).toEqual(['GetItem watch', 'UpdateItem watch', 'GetItem wait']);
    } finally {
      dynamo.middlewareStack.remove('calls');
      dynamo.config.cacheMiddleware = clientSettings.cacheMiddleware;
    }
  });

  it('out of order, a STARTED after the SUCCEEDED changes nothing', async () => {
    await watch('exec-1');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    await expect(local.completion.onPipelineEvent(event('exec-1', 'STARTED'))).resolves.toBe('not-an-end');
    await expect(local.completion.onPipelineEvent(event('exec-1', 'STOPPING'))).resolves.toBe('not-an-end');
    expect(await park(2, 'token-2')).toBe('parked');
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  it('an execution no run watches (another run’s, or one never ours) is not ours', async () => {
    await park(1, 'token-1');

    await expect(local.completion.onPipelineEvent(event('exec-foreign', 'SUCCEEDED'))).resolves.toBe('not-ours');
    expect(tokensCompleted()).toEqual([]);
  });

  it('spells CANCELED as events do, and takes version as a string or a number', async () => {
    await watch('exec-1');
    await park(1, 'token-1');
    const cancelled = event('exec-1', 'CANCELED');
    (cancelled.detail as Record<string, unknown>).version = 3;

    await expect(local.completion.onPipelineEvent(cancelled)).resolves.toBe('completed');
  });

  it('refuses a malformed event by name before touching anything', async () => {
    await expect(local.completion.onPipelineEvent({ source: 'aws.codepipeline', detail: {} })).rejects.toMatchObject({ name: 'InvalidInput' });
    expect(tokensCompleted()).toEqual([]);
  });

  it('ignores a watch item past its TTL, which DynamoDB deletes only days later', async () => {
    await local.watching.watchExecutions(run, [{ pipelineName: 'P1', pipelineExecutionId: 'exec-old', deadline: '2025-01-01T00:00:00Z' }]);
    await park(1, 'token-1');

    await expect(local.completion.onPipelineEvent(event('exec-old', 'SUCCEEDED'))).resolves.toBe('not-ours');
  });
});

describe('the sweeper: an execution held for a retry (onFailure: wait)', () => {
  const heldWatch = () => local.watching.watchExecutions(run, [{ pipelineName: 'P1', pipelineExecutionId: 'exec-1', deadline, held: true }]);

  it('wakes nobody while it is still Failed and CodePipeline could still retry it', async () => {
    await heldWatch();
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Failed' } });
    codePipeline.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Build', latestExecution: { pipelineExecutionId: 'exec-1', status: 'Failed' } }] });

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ watched: 1, ended: 0 });
    expect(tokensCompleted()).toEqual([]);
  });

  it('wakes the run once a later execution ran the stage it failed in, for which no event comes: its look ends the hold', async () => {
    await heldWatch();
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Failed' } });
    codePipeline.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Build', latestExecution: { pipelineExecutionId: 'later', status: 'InProgress' } }] });
    codePipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [{ stageName: 'Build', status: 'Failed' }] });

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ watched: 1, outcomes: ['completed'] });
    const output = JSON.parse(stepFunctions.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!) as unknown;
    expect(output).toMatchObject({ by: 'sweep', pipelineExecutionId: 'exec-1', state: 'UNRETRIABLE' });
  });
});

describe('the sweeper: the end whose event never came', () => {
  it('asks CodePipeline about every open watch and wakes the run for the ended ones, through the same path', async () => {
    // Prepare
    await watch('exec-1', 'P1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-1' }).resolves({ pipelineExecution: { status: 'InProgress' } });
    codePipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-2' }).resolves({ pipelineExecution: { status: 'Cancelled' } });

    // Act
    const result = await local.sweeper.sweep();

    // Assess
    expect(result).toMatchObject({ watched: 2, ended: 1, failed: 0, outcomes: ['completed'] });
    const output = JSON.parse(stepFunctions.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!);
    expect(output).toMatchObject({ by: 'sweep', pipelineName: 'P2', state: 'CANCELED' });
  });

  it('an event and a sweep for the same end complete the wait once', async () => {
    await watch('exec-1');
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded' } });

    const outcomes = await Promise.all([local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED')), local.sweeper.sweep()]);

    expect(tokensCompleted()).toEqual(['token-1']);
    expect(outcomes).toHaveLength(2);
    expect(await park(2, 'token-2')).toBe('parked');
  });

  it('does not ask again about an execution whose end was recorded', async () => {
    await watch('exec-1');
    await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ watched: 0 });
    expect(codePipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(0);
  });

  it('does not ask about a watch item past its TTL, which DynamoDB deletes only days later', async () => {
    await local.watching.watchExecutions(run, [{ pipelineName: 'P1', pipelineExecutionId: 'exec-old', deadline: '2025-01-01T00:00:00Z' }]);
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded' } });

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ watched: 0, ended: 0 });
    expect(codePipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(0);
    expect(tokensCompleted()).toEqual([]);
  });

  it('an end for a wait item past its TTL is recorded as for no wait, not retried until it gives up', async () => {
    await watch('exec-1');
    await park(1, 'token-1', now / 1000 - 1);

    await expect(local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'))).resolves.toBe('no-wait');
    expect(tokensCompleted()).toEqual([]);
  });

  it('never completes the token of a wait item past its TTL, which DynamoDB deletes only days later', async () => {
    await watch('exec-1');
    await park(1, 'token-1', now / 1000 - 1);
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded' } });

    await local.sweeper.sweep();

    expect(tokensCompleted()).toEqual([]);
  });

  it('wakes the run of an execution that no longer exists (its pipeline deleted), whose own look then fails by name', async () => {
    await watch('exec-gone', 'P1');
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-gone' }).rejects(awsError('PipelineNotFoundException', 400));

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ ended: 1, failed: 0, outcomes: ['completed'] });
    const output = JSON.parse(stepFunctions.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!) as unknown;
    expect(output).toMatchObject({ by: 'sweep', pipelineExecutionId: 'exec-gone', state: 'GONE' });
  });

  it('leaves the watch open when it wakes a run for an execution it could not find: if the run’s look finds it running, its end still wakes the run', async () => {
    // Prepare: a passing not-found (the sweep read right after the start, say).
    await watch('exec-1', 'P1');
    await park(1, 'token-1');
    codePipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-1' })
      .rejectsOnce(awsError('PipelineExecutionNotFoundException', 400))
      .resolves({ pipelineExecution: { status: 'InProgress' } });
    await local.sweeper.sweep();

    // Act: the run looked, found exec-1 running, and parked again; then exec-1 ends.
    expect(await park(2, 'token-2')).toBe('parked');
    const outcome = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    // Assess
    expect(outcome).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-2']);
  });

  it('one execution it may not read does not hide the others’ ends; the sweep then fails, naming it, for the dead-letter queue’s alarm', async () => {
    await watch('exec-denied', 'P1');
    await watch('exec-2', 'P2');
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-denied' }).rejects(awsError('AccessDeniedException', 400));
    codePipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-2' }).resolves({ pipelineExecution: { status: 'Succeeded' } });
    // The run still waits (its wait is woken by exec-2's end, and its look will find exec-denied unreadable).
    stepFunctions.on(DescribeExecutionCommand, { executionArn: origin }).resolves({ status: 'RUNNING' });

    await expect(local.sweeper.sweep()).rejects.toMatchObject({
      name: 'AwsRequestRejected',
      message: expect.stringMatching(/^the sweeper could not read a watched execution \(P1 execution exec-denied \(item watch#123456789012\/us-east-1\/P1#exec-denied\): AwsRequestRejected: .*AccessDeniedException from the service.*\); until it can, their runs notice these ends by their events alone, or at their deadline$/) as unknown,
    });
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  /** The train's executions, as Step Functions describes them: the origin, then `continuations` successors, the last of which ended `lastStatus`. */
  const train = (continuations: number, lastStatus: ExecutionStatus) => {
    const executions = [origin, ...Array.from({ length: continuations }, (_, index) => `${origin}-g${index + 2}`)];
    executions.forEach((executionArn, index) => {
      const successor = executions[index + 1];
      stepFunctions
        .on(DescribeExecutionCommand, { executionArn })
        .resolves(successor === undefined ? { status: lastStatus } : { status: 'SUCCEEDED', output: JSON.stringify({ continuedAs: successor }) });
    });
    return executions;
  };
  /** A watch of exec-denied, which CodePipeline refuses to describe (a role gone): it fails the sweep unless its train has ended. */
  const unreadableWatch = async () => {
    await watch('exec-denied', 'P1');
    codePipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-denied' }).rejects(awsError('AccessDeniedException', 400));
  };

  it.each(['ABORTED', 'FAILED', 'TIMED_OUT', 'SUCCEEDED'])('a watch it may not read, left by a run that has ended (%s), does not fail the sweep, nor warn every minute: nobody waits on it, and a redriven run parks again', async (runStatus) => {
    // Prepare
    await unreadableWatch();
    await park(1, 'token-1');
    train(0, runStatus as ExecutionStatus);
    // Said every minute until the item expires: information, not a warning.
    const { logger } = await import('../../src/logger.js');
    const warned = jest.spyOn(logger, 'warn');

    try {
      // Act
      const swept = local.sweeper.sweep();

      // Assess
      await expect(swept).resolves.toMatchObject({ ended: 0, failed: 0, ofEndedTrains: 1 });
      expect(tokensCompleted()).toEqual([]);
      expect(warned).not.toHaveBeenCalled();
    } finally {
      // A failed case must not hand its calls to the next one's spy.
      warned.mockRestore();
    }
  });

  it('asks about the execution that parked last, a continuation’s successor, not the origin the wait is named after', async () => {
    // Prepare: the origin continued (SUCCEEDED); its successor parked on the same wait and runs.
    const successor = `${origin}-2`;
    await unreadableWatch();
    await park(1, 'token-1', undefined, successor);
    stepFunctions.on(DescribeExecutionCommand, { executionArn: origin }).resolves({ status: 'SUCCEEDED' });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: successor }).resolves({ status: 'RUNNING' });

    // Act
    const swept = local.sweeper.sweep();

    // Assess
    await expect(swept).rejects.toMatchObject({ name: 'AwsRequestRejected', message: expect.stringContaining('P1 execution exec-denied') as unknown });
    expect(stepFunctions).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: successor });
    expect(stepFunctions).not.toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: origin });
  });

  it('asks Step Functions once a sweep about a train whose several watches it may not read (a group in an account whose role is gone)', async () => {
    await watch('exec-a', 'P1');
    await watch('exec-b', 'P2');
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand).rejects(awsError('AccessDeniedException', 400));
    stepFunctions.on(DescribeExecutionCommand, { executionArn: origin }).resolves({ status: 'ABORTED' });

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ ended: 0, failed: 0, ofEndedTrains: 2 });
    expect(stepFunctions).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
  });

  it('follows a continuation that has not parked yet: the train runs on in the successor, so the sweep still fails', async () => {
    // Prepare: the origin parked, then continued as new; its successor runs (DecideOrder, say) and has not parked.
    await unreadableWatch();
    await park(1, 'token-1');
    const [, successor] = train(1, 'RUNNING');

    // Act
    const swept = local.sweeper.sweep();

    // Assess
    await expect(swept).rejects.toMatchObject({ name: 'AwsRequestRejected' });
    expect(stepFunctions).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: successor });
  });

  it('a train that continued and was then stopped, before its successor parked, has ended: the sweep does not fail', async () => {
    await unreadableWatch();
    await park(1, 'token-1');
    train(1, 'ABORTED');

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ ended: 0, failed: 0, ofEndedTrains: 1 });
  });

  describe('a wait that does not record who parked (an earlier release wrote it, or an end that came before the run parked)', () => {
    const withoutParkedBy = () =>
      local.tableClient.send(
        new UpdateItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Key: { pk: { S: waitKey } }, UpdateExpression: 'REMOVE #parkedBy', ExpressionAttributeNames: { '#parkedBy': 'parkedBy' } }),
      );
    const describedInOrder = () => stepFunctions.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input.executionArn);

    it('asks about the train’s first execution, which the wait is named after: ended, the sweep does not fail', async () => {
      // Prepare
      await unreadableWatch();
      await park(1, 'token-1');
      await withoutParkedBy();
      train(0, 'ABORTED');

      // Act
      const swept = local.sweeper.sweep();

      // Assess
      await expect(swept).resolves.toMatchObject({ ended: 0, failed: 0, ofEndedTrains: 1 });
      expect(describedInOrder()).toEqual([origin]);
    });

    it('asks the same when the wait item itself is gone (expired, or never written)', async () => {
      // Prepare: the watch alone.
      await unreadableWatch();
      train(0, 'FAILED');

      // Act
      const swept = local.sweeper.sweep();

      // Assess
      await expect(swept).resolves.toMatchObject({ ended: 0, failed: 0, ofEndedTrains: 1 });
      expect(describedInOrder()).toEqual([origin]);
    });

    it.each([
      ['three continuations, the last stopped: the train has ended', 3, 'ABORTED', 'ended'],
      ['three continuations, the last running: the sweep fails', 3, 'RUNNING', 'fails'],
      ['a first execution redriven (pending): the sweep fails', 0, 'PENDING_REDRIVE', 'fails'],
    ] as const)('follows each continuation in turn: %s', async (_, continuations, lastStatus, outcome) => {
      // Prepare
      await unreadableWatch();
      await park(1, 'token-1');
      await withoutParkedBy();
      const executions = train(continuations, lastStatus);

      // Act
      const swept = local.sweeper.sweep();

      // Assess
      if (outcome === 'ended') await expect(swept).resolves.toMatchObject({ ended: 0, failed: 0, ofEndedTrains: 1 });
      else await expect(swept).rejects.toMatchObject({ name: 'AwsRequestRejected' });
      expect(describedInOrder()).toEqual(executions);
    });

    it('past three continuations it cannot tell, and the sweep fails rather than hide a run in danger', async () => {
      // Prepare
      await unreadableWatch();
      await park(1, 'token-1');
      await withoutParkedBy();
      const executions = train(4, 'ABORTED');

      // Act
      const swept = local.sweeper.sweep();

      // Assess
      await expect(swept).rejects.toMatchObject({ name: 'AwsRequestRejected' });
      expect(describedInOrder()).toEqual(executions.slice(0, 4));
    });
  });

  it('still fails when it cannot tell whether the run has ended (Step Functions refuses to say), rather than hide a run in danger', async () => {
    await unreadableWatch();
    await park(1, 'token-1');
    stepFunctions.on(DescribeExecutionCommand).rejects(awsError('AccessDeniedException', 400));

    await expect(local.sweeper.sweep()).rejects.toMatchObject({ name: 'AwsRequestRejected' });
  });

  it('a read that fails for a passing reason (throttling past the SDK’s retries) is left to the next sweep, which does not fail nor ask whether the train has ended', async () => {
    await watch('exec-1', 'P1');
    await park(1, 'token-1');
    codePipeline.on(GetPipelineExecutionCommand).rejects(awsError('ServiceUnavailable', 503));
    stepFunctions.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });

    await expect(local.sweeper.sweep()).resolves.toMatchObject({ ended: 0, failed: 1, ofEndedTrains: 0 });
    expect(stepFunctions).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });
});

describe('what a look writes to a watch (onFailure fail): open again when its execution runs again, marked when found ended', () => {
  const running = (pipelineExecutionId: string) => ({ pipelineName: 'P1', pipelineExecutionId, status: 'InProgress' }) as Parameters<typeof local.looks.armedFor>[1];
  const succeeded = (pipelineExecutionId: string) => ({ pipelineName: 'P1', pipelineExecutionId, status: 'Succeeded' }) as Parameters<typeof local.looks.disarm>[1];
  const woke = (pipelineExecutionId: string, state = 'FAILED') => ({ pipelineExecutionId, marked: state !== 'GONE' });
  const watchItem = async (pipelineExecutionId: string) =>
    (await local.tableClient.send(new GetItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Key: { pk: { S: `watch#123456789012/us-east-1/P1#${pipelineExecutionId}` } } }))).Item;
  const markedEnded = async (pipelineExecutionId: string) => (await watchItem(pipelineExecutionId))?.ended?.S;

  it('woken by its own FAILED, a look that finds it running again (retried) opens its watch: the retry’s end then wakes the run', async () => {
    await watch('exec-1');
    await park(1, 'token-1');
    await local.completion.onPipelineEvent(event('exec-1', 'FAILED'));

    await local.looks.armedFor(run, running('exec-1'), undefined, { completion: 'events', woke: woke('exec-1') });
    await park(2, 'token-2');
    const outcome = await local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));

    expect(outcome).toBe('completed');
    expect(tokensCompleted()).toEqual(['token-1', 'token-2']);
  });

  it('woken by another execution’s end, a look writes nothing for a member it finds running: that member’s end was recorded for the next wait, whose look opens it', async () => {
    await watch('exec-1');
    await watch('exec-2', 'P2');
    // exec-1's FAILED comes while the run looks (nothing parked): recorded for the next wait.
    await local.completion.onPipelineEvent(event('exec-1', 'FAILED'));

    await local.looks.armedFor(run, running('exec-1'), undefined, { completion: 'events', woke: woke('exec-2', 'SUCCEEDED') });
    const markedAfterThatLook = await markedEnded('exec-1');
    const parked = await park(1, 'token-1');
    // That refused park is the wake of the next look: an end recorded, none sent.
    await local.looks.armedFor(run, running('exec-1'), undefined, { completion: 'events', woke: { marked: false } });

    expect(markedAfterThatLook).toBe('FAILED');
    expect(parked).toBe('refused');
    expect(await markedEnded('exec-1')).toBeUndefined();
  });

  it('before the run’s first wait, a look writes nothing for a member it finds running: no end can have been recorded for it yet', async () => {
    await watch('exec-1');
    // Marked here only so that a write would show.
    await local.completion.onPipelineEvent(event('exec-1', 'FAILED'));

    await local.looks.armedFor(run, running('exec-1'), undefined, { completion: 'events' });

    expect(await markedEnded('exec-1')).toBe('FAILED');
  });

  it('leaves a watch alone while a delivery is recording an end on it (its waking mark): that end, after the look, must not leave the watch open for the sweeper to wake a later wait', async () => {
    await watch('exec-1');
    const { client: dynamo } = await (await import('../../src/completion-table.js')).tableClient();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached = () => {};
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    let pending = true;
    dynamo.config.cacheMiddleware = false;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (pending && context.commandName === 'GetItemCommand' && (args.input as GetItemCommandInput).Key?.pk?.S === waitKey) {
          pending = false;
          reached();
          await gate;
        }
        return next(args);
      },
      { step: 'initialize', name: betweenReadAndWrite },
    );
    // The look saw exec-1 running; exec-1 ends now, and its delivery marks the watch and stops before the wait item.
    const delivery = local.completion.onPipelineEvent(event('exec-1', 'SUCCEEDED'));
    await atGate;

    await local.looks.armedFor(run, running('exec-1'), undefined, { completion: 'events', woke: { marked: false } });
    await park(1, 'token-1');
    release();
    expect(await delivery).toBe('completed');
    await local.looks.disarm(run, succeeded('exec-1'), undefined, { completion: 'events', woke: woke('exec-1', 'SUCCEEDED') });
    await park(2, 'token-2');
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'exec-1', status: 'Succeeded' } });
    const swept = await local.sweeper.sweep();

    expect(await markedEnded('exec-1')).toBe('SUCCEEDED');
    expect(swept.watched).toBe(0);
    expect(tokensCompleted()).toEqual(['token-1']);
  });

  it.each([
    ['another execution’s end', woke('exec-2', 'SUCCEEDED')],
    ['the sweeper’s GONE, which marks nothing', woke('exec-1', 'GONE')],
  ])('woken by %s, a look that finds a member ended marks its watch: its event, late, wakes no later wait', async (_case, wokeBy) => {
    await watch('exec-1');

    await local.looks.disarm(run, succeeded('exec-1'), undefined, { completion: 'events', woke: wokeBy });

    expect(await markedEnded('exec-1')).toBe('SUCCEEDED');
  });

  it('woken by the member’s own end, the look leaves the watch as that end marked it, without a write', async () => {
    // Not marked here, so that a write would show.
    await watch('exec-1');

    await local.looks.disarm(run, succeeded('exec-1'), undefined, { completion: 'events', woke: woke('exec-1', 'SUCCEEDED') });

    expect(await markedEnded('exec-1')).toBeUndefined();
  });
});
