import 'aws-sdk-client-mock-jest';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb.js';
import { clientSettings } from '../../src/client-settings.js';
import { answerLostOnce } from '../support/answer-lost.js';
import { useClock } from '../../src/clock.js';

/*
 * The stage's run lock (completion: events) on a real DynamoDB (dynalite): a conditional write,
 * so of two runs started a moment apart exactly one goes on, whatever Step Functions lists.
 */

const stepFunctions = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const execution = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:${name}`;
const claim = (origin: string, current = origin, redriveCount = 0) => ({ stateMachineArn, originArn: execution(origin), executionArn: execution(current), redriveCount });

let dynamo: LocalDynamo;
let lock: typeof import('../../src/run-lock.js');
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  lock = await import('../../src/run-lock.js');
});

afterAll(() => dynamo.close());

beforeEach(async () => {
  stepFunctions.reset();
  stepFunctions.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  tables += 1;
  process.env.COMPLETION_TABLE_NAME = `lock-test-${tables}`;
  await dynamo.createTable(process.env.COMPLETION_TABLE_NAME);
});

const outcome = (attempt: Promise<void>) =>
  attempt.then(
    () => 'took it',
    (error: Error) => error.name,
  );

describe('the stage’s run lock', () => {
  it('lets exactly one of two runs started together through, every time', async () => {
    for (let round = 0; round < 10; round += 1) {
      // Prepare: a fresh lock each round.
      process.env.COMPLETION_TABLE_NAME = `lock-race-${tables}-${round}`;
      await dynamo.createTable(process.env.COMPLETION_TABLE_NAME);

      // Act: both claim at once; neither has ended, as Step Functions says.
      const results = await Promise.all([outcome(lock.takeRunLock(claim(`a-${round}`))), outcome(lock.takeRunLock(claim(`b-${round}`)))]);

      // Assess
      expect(results.sort()).toEqual(['AlreadyRunning', 'took it']);
    }
  });

  it('is taken again by the same train: a retried DecideOrder, a continuation, a redrive', async () => {
    await lock.takeRunLock(claim('train'));

    await expect(lock.takeRunLock(claim('train'))).resolves.toBeUndefined();
    await expect(lock.takeRunLock(claim('train', 'train-g2'))).resolves.toBeUndefined();
    // The holder now is the continuation: another run is refused while it is RUNNING.
    await expect(lock.takeRunLock(claim('other'))).rejects.toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining('train-g2') });
    expect(stepFunctions).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: execution('train-g2') });
  });

  it.each(['ABORTED', 'FAILED', 'TIMED_OUT', 'SUCCEEDED'] as const)('is taken over from a holder that is %s', async (status) => {
    await lock.takeRunLock(claim('stopped'));
    stepFunctions.on(DescribeExecutionCommand).resolves({ status });

    await expect(lock.takeRunLock(claim('next'))).resolves.toBeUndefined();
    // The old train's redrive now finds another train holding it.
    stepFunctions.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    await expect(lock.takeRunLock(claim('stopped'))).rejects.toMatchObject({ name: 'AlreadyRunning' });
  });

  it.each(['ABORTED', 'SUCCEEDED'] as const)('lets exactly one of two runs take it over from a holder that is %s', async (status) => {
    // Prepare: both claimants find the ended holder before either writes (DescribeExecution answers once both asked).
    await lock.takeRunLock(claim('stopped'));
    let bothAsked = () => {};
    const barrier = new Promise<void>((resolve) => {
      bothAsked = resolve;
    });
    let asked = 0;
    stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('stopped') }).callsFake(async () => {
      asked += 1;
      if (asked === 2) bothAsked();
      await barrier;
      return { status };
    });

    // Act
    const results = await Promise.all([outcome(lock.takeRunLock(claim('nightly'))), outcome(lock.takeRunLock(claim('hotfix')))]);

    // Assess
    expect(asked).toBe(2);
    expect(results.sort()).toEqual(['AlreadyRunning', 'took it']);
  });

  it('is held through a train’s hand-over to its continuation: another run between the two is refused, the continuation takes it', async () => {
    // Prepare: the train's first execution hands over to train-g2 and has SUCCEEDED; train-g2 has
    // not claimed the lock yet (it does at its DecideOrder), and Step Functions does not know it yet.
    await lock.takeRunLock(claim('train'));
    await lock.handOverRunLock({ ...claim('train'), successorArn: execution('train-g2') });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('train') }).resolves({ status: 'SUCCEEDED' });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('train-g2') }).rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));

    // Act
    const other = await outcome(lock.takeRunLock(claim('other')));
    const continuation = await outcome(lock.takeRunLock(claim('train', 'train-g2')));

    // Assess
    expect({ other, continuation }).toEqual({ other: 'AlreadyRunning', continuation: 'took it' });
  });

  it('says which execution is handing over when it refuses a run in that moment', async () => {
    await lock.takeRunLock(claim('train'));
    await lock.handOverRunLock({ ...claim('train'), successorArn: execution('train-g2') });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('train-g2') }).rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));

    await expect(lock.takeRunLock(claim('other'))).rejects.toMatchObject({
      name: 'AlreadyRunning',
      message: `another run of this state machine is in progress: ${execution('train')} is handing its train over to ${execution('train-g2')}, which holds the stage's run lock; nothing was started`,
    });
  });

  it.each(['FAILED', 'ABORTED'] as const)('is taken over from a hand-over whose execution ended %s before its continuation started', async (status) => {
    // Prepare: the continuation's StartExecution failed for good, or the execution was stopped: no continuation runs.
    await lock.takeRunLock(claim('train'));
    await lock.handOverRunLock({ ...claim('train'), successorArn: execution('train-g2') });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('train') }).resolves({ status });
    stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('train-g2') }).rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));

    // Act
    const other = await outcome(lock.takeRunLock(claim('other')));

    // Assess
    expect(other).toBe('took it');
  });

  it('hands nothing over for a train that no longer holds it', async () => {
    await lock.takeRunLock(claim('holder'));

    await lock.handOverRunLock({ ...claim('train'), successorArn: execution('train-g2') });

    // The holder is still the other train, RUNNING.
    await expect(lock.takeRunLock(claim('third'))).rejects.toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining(`${execution('holder')} holds`) });
  });

  it('is not taken over from a failed holder that its redrive took again after the takeover read it', async () => {
    // Prepare: train T failed holding the lock; run X reads the lock and asks DescribeExecution,
    // which answers FAILED only after T's redrive (check-status) took the lock again.
    await lock.takeRunLock(claim('T'));
    let answer = () => {};
    const gate = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let asked = () => {};
    const xAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    stepFunctions
      .on(DescribeExecutionCommand, { executionArn: execution('T') })
      .callsFakeOnce(async () => {
        asked();
        await gate;
        return { status: 'FAILED' };
      })
      // Asked again, it answers what the redrive made of it.
      .resolves({ status: 'RUNNING' });

    // Act
    const x = outcome(lock.takeRunLock(claim('X')));
    await xAsked;
    const redrive = await outcome(lock.takeRunLock(claim('T')));
    answer();

    // Assess: exactly one goes on, the redriven train that took it first.
    expect({ redrive, X: await x }).toEqual({ redrive: 'took it', X: 'AlreadyRunning' });
    await expect(lock.takeRunLock(claim('X'))).rejects.toMatchObject({ message: expect.stringContaining(`${execution('T')} holds`) });
  });

  describe('trusts no answer of DescribeExecution older than the lock (it is eventually consistent)', () => {
    const doesNotExist = () => Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
    afterEach(() => useClock({ now: Date.now }));

    it('is not taken over from a holder Step Functions does not show yet, which took it a moment ago', async () => {
      // Prepare: two runs started 1 ms apart; the first took the lock, and Step Functions' read of it lags.
      await lock.takeRunLock(claim('first'));
      stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('first') }).rejects(doesNotExist());

      // Act
      const second = lock.takeRunLock(claim('second'));

      // Assess
      await expect(second).rejects.toMatchObject({
        name: 'AlreadyRunning',
        message: expect.stringMatching(
          new RegExp(`^another run of this state machine holds the stage's run lock: ${execution('first')} took it 0 s ago, and Step Functions does not show that execution yet \\(DescribeExecution is eventually consistent\\); nothing was started`),
        ) as unknown,
      });
    });

    it('is taken over from a holder Step Functions does not know a minute after it took it: an execution it forgot, 90 days after its end', async () => {
      // Prepare
      await lock.takeRunLock(claim('forgotten'));
      stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('forgotten') }).rejects(doesNotExist());
      const takenAt = Date.now();
      useClock({ now: () => takenAt + (lock.unknownHolderGraceSeconds + 1) * 1000 });

      // Act, Assess
      await expect(lock.takeRunLock(claim('next'))).resolves.toBeUndefined();
    });

    it('is not taken over from a holder that took it in a redrive the answer does not show yet', async () => {
      // Prepare: T failed, was redriven, and its redrive took the lock again; the read still counts no redrive and says FAILED.
      await lock.takeRunLock(claim('T', 'T', 1));
      stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('T') }).resolves({ status: 'FAILED', redriveCount: 0 });

      // Act
      const other = lock.takeRunLock(claim('X'));

      // Assess
      await expect(other).rejects.toMatchObject({
        name: 'AlreadyRunning',
        message: `another run of this state machine is in progress: ${execution('T')} took the stage's run lock in its redrive 1, which Step Functions does not show yet (it answers FAILED after 0 redrives; DescribeExecution is eventually consistent); nothing was started`,
      });
    });

    it('is taken over from a holder whose answer has seen the redrive that took it, and its end since', async () => {
      await lock.takeRunLock(claim('T', 'T', 1));
      stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('T') }).resolves({ status: 'FAILED', redriveCount: 1 });

      await expect(lock.takeRunLock(claim('X'))).resolves.toBeUndefined();
    });

    it('keeps the count a redrive recorded when the stopped attempt’s DecideOrder writes after it: another run is still refused while the answer lags', async () => {
      // Prepare: T was stopped in its DecideOrder and redriven at once; the redrive took the lock in
      // its redrive 1, then the stopped attempt's DecideOrder, still running, claims it with count 0.
      await lock.takeRunLock(claim('T', 'T', 1));
      stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('T') }).resolves({ status: 'ABORTED', redriveCount: 0 });
      const late = await outcome(lock.takeRunLock(claim('T', 'T', 0)));

      // Act: another run, while Step Functions still answers the stop.
      const other = await outcome(lock.takeRunLock(claim('X')));

      // Assess: the late write failed harmlessly; the lock is still the redrive's.
      expect({ late, other }).toEqual({ late: 'AlreadyRunning', other: 'AlreadyRunning' });
    });

    it('is taken over from a run stopped while its DecideOrder still ran, which wrote the lock after its end (StopExecution does not stop a running function)', async () => {
      // Prepare: stopped a second ago; its DecideOrder took the lock just now.
      stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('stopped') }).resolves({ status: 'ABORTED', stopDate: new Date(Date.now() - 1000), redriveCount: 0 });
      await lock.takeRunLock(claim('stopped'));

      // Act, Assess
      await expect(lock.takeRunLock(claim('next'))).resolves.toBeUndefined();
    });
  });

  it('says which table, what for, and what to do when the completion table is not there', async () => {
    process.env.COMPLETION_TABLE_NAME = 'codepipeline-sequencer-dev-completion';

    await expect(lock.takeRunLock(claim('train'))).rejects.toMatchObject({
      name: 'AwsRequestRejected',
      message: expect.stringMatching(
        /^DynamoDB PutItem on codepipeline-sequencer-dev-completion \(the stage's run lock; the stage's completion table is missing: deploy the stage again\): ResourceNotFoundException/,
      ) as unknown,
    });
  });

  it('is free again once the train that holds it releases it; another train’s release does nothing', async () => {
    await lock.takeRunLock(claim('first'));

    await lock.releaseRunLock(claim('someone-else'));
    await expect(lock.takeRunLock(claim('second'))).rejects.toMatchObject({ name: 'AlreadyRunning' });
    await lock.releaseRunLock(claim('first'));
    await expect(lock.takeRunLock(claim('second'))).resolves.toBeUndefined();
  });

  it('is taken over from a lock item that names no execution (written by hand), and then holds', async () => {
    // Prepare: a lock no sequencer wrote, in the shape of the stage's lock item.
    const { client: table } = await (await import('../../src/completion-table.js')).tableClient();
    await table.send(new PutItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Item: { pk: { S: `lock#${stateMachineArn}` }, holder: { S: 'by hand' } } }));

    // Act
    await expect(lock.takeRunLock(claim('next'))).resolves.toBeUndefined();

    // Assess: it holds for this train now, against another run while it is RUNNING.
    await expect(lock.takeRunLock(claim('other'))).rejects.toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining(execution('next')) });
  });

  it('gives up, by name, when the lock changes hands between each of its writes and reads', async () => {
    // Prepare: before each of this claim's writes another run takes the lock, and before each of
    // its reads that run lets it go again.
    const { client: table } = await (await import('../../src/completion-table.js')).tableClient();
    const TableName = process.env.COMPLETION_TABLE_NAME;
    const Key = { pk: { S: `lock#${stateMachineArn}` } };
    const calls: string[] = [];
    let churning = false;
    // Added after the client's first call: the client must resolve its stack again at every call.
    table.config.cacheMiddleware = false;
    table.middlewareStack.add(
      (next, context) => async (args) => {
        const name = (context.commandName ?? '').replace(/Command$/, '');
        if (!churning && (name === 'PutItem' || name === 'GetItem')) {
          calls.push(name);
          churning = true;
          if (name === 'PutItem') await table.send(new PutItemCommand({ TableName, Item: { ...Key, holder: { S: execution('churn') }, holderExecution: { S: execution('churn') } } }));
          else await table.send(new DeleteItemCommand({ TableName, Key }));
          churning = false;
        }
        return next(args);
      },
      { step: 'initialize', name: 'churn' },
    );

    try {
      // Act
      const refused = await lock.takeRunLock(claim('unlucky')).then(
        () => undefined,
        (error: Error) => error,
      );

      // Assess: refused by name, after a bounded number of tries, having written nothing.
      expect(refused).toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining('changed hands 4 times') });
      expect(calls).toEqual(Array.from({ length: 4 }, () => ['PutItem', 'GetItem']).flat());
    } finally {
      table.middlewareStack.remove('churn');
      table.config.cacheMiddleware = clientSettings.cacheMiddleware;
    }
  });

  it('holds the lock its own takeover wrote when DynamoDB’s answer to it was lost and the SDK’s retry of the write meets it', async () => {
    // Prepare: a stopped holder; DynamoDB applies the takeover but answers 500, so the SDK sends it again.
    await lock.takeRunLock(claim('stopped'));
    stepFunctions.on(DescribeExecutionCommand, { executionArn: execution('stopped') }).resolves({ status: 'ABORTED' });
    const { client: table } = await (await import('../../src/completion-table.js')).tableClient();
    // The HTTP status of the takeover write and of its retry, as DynamoDB answered them (beneath the SDK's deserializer).
    const { answered: takeovers, restore } = answerLostOnce(table, (request) => request.includes('holderExecution = :seen'));

    try {
      // Act
      const taken = await outcome(lock.takeRunLock(claim('next')));

      // Assess: the write was applied, and its retry met it (a failed condition); this run goes on,
      // holding the lock, and the next run is refused, naming it.
      expect(takeovers).toEqual([200, 400]);
      expect(taken).toBe('took it');
      await expect(lock.takeRunLock(claim('other'))).rejects.toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining(`${execution('next')} holds`) });
    } finally {
      restore();
    }
  });

  it('lets exactly one of two runs take over a lock item that names no execution, every time', async () => {
    const { client: table } = await (await import('../../src/completion-table.js')).tableClient();
    for (let round = 0; round < 10; round += 1) {
      // Prepare: a fresh hand-written lock each round.
      process.env.COMPLETION_TABLE_NAME = `lock-by-hand-${tables}-${round}`;
      await dynamo.createTable(process.env.COMPLETION_TABLE_NAME);
      await table.send(new PutItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Item: { pk: { S: `lock#${stateMachineArn}` }, holder: { S: 'by hand' } } }));

      // Act
      const results = await Promise.all([outcome(lock.takeRunLock(claim(`a-${round}`))), outcome(lock.takeRunLock(claim(`b-${round}`)))]);

      // Assess
      expect(results.sort()).toEqual(['AlreadyRunning', 'took it']);
    }
  });
});
