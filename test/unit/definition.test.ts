import aslValidator from 'asl-validator';
import { readFileSync } from 'node:fs';
import { functionKeyOf, loadDefinition, localFunctionArn, localizeDefinition } from '../../local/definition.js';
import { nonRetryableErrorNames, pipelineOutcomeErrors } from '../../src/errors.js';
import { awsErrorTable } from '../../src/aws-errors.js';
import { retryBackoffSeconds, type Retrier } from '../../local/retry-backoff.js';

// The poll loop (`completion: poll`): what the tests below tell; the events wait has its own block at the end.
const definition = loadDefinition('poll');
const states = Object.entries(definition.States);
const tasks = states.filter(([, state]) => state.Type === 'Task');
const lambdaTasks = tasks.filter(([, state]) => functionKeyOf(state) !== undefined);
const localArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-local';

/** The definition as CloudFormation would resolve it: every Fn::GetAtt a function ARN, every Fn::Sub a state machine ARN. */
const resolved = {
  ...definition,
  States: Object.fromEntries(
    states.map(([name, state]) => {
      if (functionKeyOf(state)) return [name, { ...state, Resource: localFunctionArn(functionKeyOf(state)!) }];
      if (state.Resource === 'arn:aws:states:::states:startExecution') {
        return [name, { ...state, Parameters: { ...(state.Parameters as object), StateMachineArn: localArn } }];
      }
      return [name, state];
    }),
  ),
};

describe('statemachines/sequencer.asl.yml', () => {
  it('is valid Amazon States Language (asl-validator)', () => {
    // asl-validator writes defaults into what it checks: give it a copy.
    const { isValid, errorsText } = aslValidator(JSON.parse(JSON.stringify(resolved)), { checkArn: true, checkPaths: true });

    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('is written in JSONPath: the local engine ignores JSONata', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(states.filter(([, state]) => state.QueryLanguage === 'JSONata')).toEqual([]);
  });

  it('tells the story in its state names', () => {
    expect(Object.keys(definition.States)).toEqual(
      expect.arrayContaining(['DecideOrder', 'MorePipelines?', 'StartPipelines', 'WaitForPipelines', 'CheckPipelines', 'PipelinesDone?']),
    );
    expect(tasks.map(([name, state]) => [name, functionKeyOf(state) ?? state.Resource])).toEqual([
      ['DecideOrder', 'decideOrder'],
      ['StartPipelines', 'startPipeline'],
      ['CheckPipelines', 'checkStatus'],
      ['ContinueAsNewExecution', 'arn:aws:states:::states:startExecution'],
    ]);
  });

  it('has one per-pipeline loop: a single Wait, a single start and a single look serve lone pipelines and group members', () => {
    expect(states.filter(([, state]) => state.Type === 'Wait').map(([name]) => name)).toEqual(['WaitForPipelines']);
    expect(definition.States.StartPipelines!.Next).toBe('WaitForPipelines');
    expect(definition.States.WaitForPipelines!.Next).toBe('CheckPipelines');
    expect(definition.States.CheckPipelines!.Next).toBe('PipelinesDone?');
    expect(states.filter(([, state]) => state.Type === 'Map' || state.Type === 'Parallel')).toEqual([]);
  });

  it('has no Fail state: a pipeline’s failure fails CheckPipelines, so a redrive re-enters there', () => {
    expect(states.filter(([, state]) => state.Type === 'Fail')).toEqual([]);
  });

  it('hands every Task the retry and redrive counts the history budget needs', () => {
    for (const [, state] of lambdaTasks) {
      expect(state.Parameters).toMatchObject({ 'retryCount.$': '$$.State.RetryCount', 'redriveCount.$': '$$.Execution.RedriveCount' });
    }
  });

  it('continues as new into this same state machine, named by the run, with AWS’s started-by link', () => {
    const continuation = definition.States.ContinueAsNewExecution!;

    expect(continuation.Parameters).toMatchObject({
      StateMachineArn: { 'Fn::Sub': expect.stringMatching(/:stateMachine:\$\{self:service\}-\$\{sls:stage\}$/) },
      'Name.$': '$.run.successor.executionName',
      Input: {
        continuation: { 'plan.$': '$.plan', 'run.$': '$.run' },
        'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
      },
    });
    expect(definition.States[continuation.Next as string]).toMatchObject({ Type: 'Succeed', OutputPath: '$.handover' });
  });

  it.each(lambdaTasks.map(([name]) => name))('%s retries the Lambda service errors with backoff and full jitter', (name) => {
    const retriers = definition.States[name]!.Retry as Retrier[];
    const lambda = retriers.find((retrier) => retrier.ErrorEquals.includes('Lambda.ServiceException'));

    expect(lambda?.ErrorEquals).toEqual(
      expect.arrayContaining(['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException']),
    );
    // All but the wait for a continuation's predecessor, one waiter whose wait must be sure (below).
    for (const retrier of retriers.filter(({ ErrorEquals }) => !ErrorEquals.includes('PredecessorStillRunning'))) expect(retrier.JitterStrategy).toBe('FULL');
  });

  it.each(lambdaTasks.map(([name]) => name))('%s retries a crashed or timed-out function under every name Step Functions gives it', (name) => {
    const retried = (definition.States[name]!.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals);

    // Current runtimes report a Lambda timeout as Sandbox.Timedout, older docs as Lambda.Unknown.
    expect(retried).toEqual(expect.arrayContaining(['Lambda.Unknown', 'Sandbox.Timedout', 'States.Timeout']));
  });

  it('retries the continuation’s StartExecution under the error name the integration raises', () => {
    const retried = (definition.States.ContinueAsNewExecution!.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals);

    // The optimized integration prefixes the API's error code: StartExecution's is ExecutionLimitExceeded.
    expect(retried).toContain('StepFunctions.ExecutionLimitExceeded');
    expect(retried).not.toContain('StepFunctions.ExecutionLimitExceededException');
  });

  it('retries every error the AWS error table calls passing for StartExecution, under the integration’s name', () => {
    const retried = (definition.States.ContinueAsNewExecution!.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals);
    const passing = Object.entries(awsErrorTable)
      .filter(([, row]) => row.verdict === 'transient' && (row.operations === 'any' || (row.operations as readonly string[]).includes('StartExecution')))
      .map(([name]) => `StepFunctions.${name}`)
      // Answers the SDK gives, not the service: no integration raises them.
      .filter((name) => !['StepFunctions.TimeoutError'].includes(name));

    expect(retried).toEqual(expect.arrayContaining(passing));
  });

  it('lets a continuation wait for its predecessor longer than the predecessor retries starting it, so the successor never fails first', () => {
    const budget = (retrier: Retrier, jitterless: boolean) =>
      Array.from({ length: retrier.MaxAttempts ?? 3 }, (_, retry) => {
        const backoff = retryBackoffSeconds(retrier, retry + 1);
        // FULL jitter may wait anything up to the backoff: the least it is sure to wait is nothing.
        return jitterless || retrier.JitterStrategy !== 'FULL' ? backoff : 0;
      }).reduce((sum, seconds) => sum + seconds, 0);
    const waiting = (definition.States.DecideOrder!.Retry as Retrier[]).find((retrier) => retrier.ErrorEquals.includes('PredecessorStillRunning'))!;
    const starting = (definition.States.ContinueAsNewExecution!.Retry as Retrier[]).find((retrier) => retrier.ErrorEquals.includes('States.Timeout'))!;

    expect(budget(waiting, false)).toBeGreaterThan(budget(starting, true));
  });

  it.each(tasks.map(([name]) => name))('%s never retries a validation error, nor everything', (name) => {
    const retried = (definition.States[name]!.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals);

    for (const error of [...nonRetryableErrorNames, 'States.ALL', 'States.TaskFailed']) expect(retried).not.toContain(error);
  });

  it('names only errors that src/errors.ts defines, besides AWS’s own', () => {
    const named = new Set(
      tasks.flatMap(([, state]) => (state.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals)).filter(
        (error) => !error.startsWith('Lambda.') && !error.startsWith('Sandbox.') && !error.startsWith('States.') && !error.startsWith('StepFunctions.'),
      ),
    );

    expect([...named].sort()).toEqual(['AwsUnavailable', 'PredecessorStillRunning']);
    const errorsModule = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
    for (const error of named) expect(errorsModule).toContain(`this.name = '${error}'`);
  });

  it('raises the pipeline outcomes by name from check-status, never retried', () => {
    expect(Object.values(pipelineOutcomeErrors).sort()).toEqual([
      'PipelineCancelled',
      'PipelineFailed',
      'PipelineStopped',
      'PipelineSuperseded',
      'PipelineTimedOut',
    ]);
    expect(nonRetryableErrorNames).toEqual(expect.arrayContaining(Object.values(pipelineOutcomeErrors)));
  });
});

describe('the local engine’s copy of the definition', () => {
  const local = localizeDefinition(definition, localArn);

  it('turns only Waits into clock advances and Fn::GetAtt into plain ARNs; the graph is otherwise the same', () => {
    const restored = Object.fromEntries(
      Object.entries(local.definition.States).map(([name, state]) => {
        const original = definition.States[name]!;
        if (original.Type === 'Wait') return [name, { ...state, Type: 'Wait', Resource: undefined, SecondsPath: original.SecondsPath }];
        if (local.tasks[name]) return [name, { ...state, Resource: original.Resource }];
        if (local.continuations[name]) return [name, { ...state, Parameters: original.Parameters }];
        return [name, state];
      }),
    );

    expect(JSON.parse(JSON.stringify(restored))).toEqual(definition.States);
    expect({ ...local.definition, States: undefined }).toEqual({ ...definition, States: undefined });
    expect(Object.keys(local.waits)).toEqual(['WaitForPipelines']);
    expect(local.tasks).toEqual({ DecideOrder: 'decideOrder', StartPipelines: 'startPipeline', CheckPipelines: 'checkStatus' });
    expect(local.continuations).toEqual({ ContinueAsNewExecution: true });
    expect((local.definition.States.ContinueAsNewExecution!.Parameters as { StateMachineArn: string }).StateMachineArn).toBe(localArn);
  });

  it('reads the wait from the same SecondsPath', () => {
    const waitFor = local.waits.WaitForPipelines!;

    expect(waitFor({ run: { waitSeconds: 420 } })).toBe(420);
    expect(waitFor({ run: { waitSeconds: 0 } })).toBe(0);
    expect(() => waitFor({ run: {} })).toThrow(expect.objectContaining({ name: 'States.Runtime' }));
  });

  it.each([1.5, -1, 100_000_000, '60'])('fails the execution, as Step Functions would, for a SecondsPath of %j: a whole number of seconds up to 99,999,999 only', (waitSeconds) => {
    const waitFor = local.waits.WaitForPipelines!;

    expect(() => waitFor({ run: { waitSeconds } })).toThrow(expect.objectContaining({ name: 'States.Runtime', message: expect.stringContaining('not a whole number of seconds from 0 to 99999999') }));
  });

  it('leaves the file on disk untouched', () => {
    localizeDefinition(definition, localArn);

    expect(loadDefinition('poll')).toEqual(definition);
  });
});

describe('the definition with completion: events', () => {
  const events = loadDefinition('events');
  const wait = events.States.WaitForPipelineEnd!;
  type Catcher = { ErrorEquals: string[]; Next: string; ResultPath?: string };

  it('is valid Amazon States Language with the table resolved (asl-validator)', () => {
    const resolvedEvents = {
      ...events,
      States: Object.fromEntries(
        Object.entries(events.States).map(([name, state]) => {
          if (functionKeyOf(state)) return [name, { ...state, Resource: localFunctionArn(functionKeyOf(state)!) }];
          if (state.Resource === 'arn:aws:states:::states:startExecution') return [name, { ...state, Parameters: { ...(state.Parameters as object), StateMachineArn: localArn } }];
          if (name === 'WaitForPipelineEnd') return [name, { ...state, Parameters: { ...(state.Parameters as object), TableName: 'completion' } }];
          return [name, state];
        }),
      ),
    };
    const { isValid, errorsText } = aslValidator(JSON.parse(JSON.stringify(resolvedEvents)), { checkArn: true, checkPaths: true });

    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('parks on a callback Task in place of the Wait: every way into the wait goes there, and nothing else changed', () => {
    expect(Object.values(events.States).filter((state) => state.Type === 'Wait')).toEqual([]);
    expect(events.States.WaitForPipelines).toBeUndefined();
    expect(wait.Resource).toBe('arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken');
    expect(events.States.StartPipelines!.Next).toBe('WaitForPipelineEnd');
    const choices = (name: string) => (events.States[name]!.Choices as { Next: string }[]).map((choice) => choice.Next);
    expect(choices('MorePipelines?')).toContain('WaitForPipelineEnd');
    expect(choices('PipelinesDone?')).toContain('WaitForPipelineEnd');
    expect(wait.Next).toBe('CheckPipelines');
    const { WaitForPipelineEnd: _events, ...rest } = events.States;
    const { WaitForPipelines: _poll, ...pollRest } = definition.States;
    expect(JSON.stringify(rest).replaceAll('WaitForPipelineEnd', 'WaitForPipelines')).toBe(JSON.stringify(pollRest));
  });

  it('stores the token, and which execution parked (the sweeper asks it whether the run has ended), only while no end was recorded for this wait, and times out at the path the handlers set', () => {
    const parameters = wait.Parameters as {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, Record<string, string>>;
    };

    expect(parameters.ConditionExpression).toBe('attribute_not_exists(#woken) OR #woken < :seq');
    expect(parameters.ExpressionAttributeNames['#woken']).toBe('woken');
    expect(parameters.ExpressionAttributeValues[':token']).toEqual({ 'S.$': '$$.Task.Token' });
    expect(parameters.UpdateExpression).toContain('#parkedBy = :execution');
    expect(parameters.ExpressionAttributeNames['#parkedBy']).toBe('parkedBy');
    expect(parameters.ExpressionAttributeValues[':execution']).toEqual({ 'S.$': '$$.Execution.Id' });
    expect(wait.TimeoutSecondsPath).toBe('$.run.waitSeconds');
    expect(wait.TimeoutSeconds).toBeUndefined();
  });

  it('looks at once when an end came first or the deadline passed, and retries only DynamoDB throttling', () => {
    const [catcher] = wait.Catch as Catcher[];

    expect(catcher).toEqual({
      ErrorEquals: ['DynamoDb.ConditionalCheckFailedException', 'DynamoDB.ConditionalCheckFailedException', 'States.Timeout'],
      ResultPath: '$.run.wake',
      Next: 'CheckPipelines',
    });
    const retried = (wait.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals);
    expect(retried.every((error) => error.startsWith('DynamoDb.'))).toBe(true);
    expect(retried).not.toContain('DynamoDb.ConditionalCheckFailedException');
  });

  it('runs locally as a callback handled by the engine: the real table call, a fresh token, the timeout raced on the clock', () => {
    const local = localizeDefinition(events, localArn, 'local-table');
    const localWait = local.definition.States.WaitForPipelineEnd!;
    const parameters = localWait.Parameters as Record<string, unknown> & { ExpressionAttributeValues: Record<string, Record<string, string>> };

    expect(local.callbacks).toEqual({ WaitForPipelineEnd: true });
    expect(local.waits).toEqual({});
    expect(parameters.TableName).toBe('local-table');
    expect(parameters['LocalTimeoutSeconds.$']).toBe('$.run.waitSeconds');
    expect(parameters.ExpressionAttributeValues[':token']).toEqual({ S: '<local task token>' });
    expect(localWait.TimeoutSecondsPath).toBeUndefined();
  });
});
