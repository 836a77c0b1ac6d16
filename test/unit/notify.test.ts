import 'aws-sdk-client-mock-jest';
import { CodePipelineClient, GetPipelineExecutionCommand, ListPipelineExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { core as checkStatus } from '../../handlers/check-status.js';
import { core as notify } from '../../handlers/notify-run.js';
import { useClock } from '../../src/clock.js';
import { notificationFor, type StatusChangeEvent } from '../../src/notify.js';
import { stepInput, tracked, useStageConfig } from '../support/fixtures.js';

const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const topic = mockClient(SNSClient);

const topicArn = 'arn:aws:sns:us-east-1:123456789012:codepipeline-sequencer-prod-NotificationTopic-1A2B3C';
const config = { service: 'codepipeline-sequencer', stage: 'prod' };
const pipelineExecutionId = '0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0';
const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-prod:4f6c0e2a';

/** "Step Functions Execution Status Change", as the Step Functions developer guide shows it. */
const statusChange = (detail: Partial<StatusChangeEvent['detail']> & Record<string, unknown>): StatusChangeEvent =>
  ({
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2026-12-01T06:42:21Z',
    region: 'us-east-1',
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-prod',
      name: '4f6c0e2a',
      status: 'FAILED',
      startDate: 1_764_570_000_000,
      stopDate: 1_764_571_341_576,
      input: '{"sequence":"release"}',
      output: null,
      inputDetails: { included: true },
      outputDetails: null,
      error: null,
      cause: null,
      redriveCount: 0,
      redriveDate: null,
      redriveStatus: 'REDRIVABLE',
      redriveStatusReason: 'Execution is FAILED and can be redriven',
      ...detail,
    },
  }) as StatusChangeEvent;

/** The cause Step Functions gives when a Lambda throws: the Node.js runtime's error payload, trace included. */
const lambdaCause = (error: Error) => JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: error.stack!.split('\n') });

/** The error check-status really throws when P2 (position 2 of 3) ends Failed. */
async function realPipelineFailure(): Promise<Error> {
  codePipeline
    .on(GetPipelineExecutionCommand)
    .resolves({ pipelineExecution: { pipelineName: 'P2', pipelineExecutionId, status: 'Failed', statusSummary: 'Unit tests failed' } });
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
  stepFunctions.on(ListExecutionsCommand).resolves({ executions: [] });
  const failure = await checkStatus(stepInput({ members: [tracked({ pipelineExecutionId })] })).catch((error: Error) => error);
  expect(failure).toMatchObject({ name: 'PipelineFailed' });
  return failure as Error;
}

const summaryOutput = JSON.stringify({
  order: ['P1', 'P2', 'P3'],
  source: 'sequence:release',
  generation: 3,
  pipelines: ['P1', 'P2', 'P3'].map((pipelineName, position) => ({ position, member: 0, pipelineName, status: 'Succeeded' })),
});

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  topic.reset();
  topic.on(PublishCommand).resolves({ MessageId: 'm-1' });
  useClock({ now: () => Date.parse('2026-01-01T00:10:00.000Z') });
  // check-status reads the stage config to find where each pipeline lives.
  useStageConfig();
  Object.assign(process.env, { NOTIFICATION_TOPIC_ARN: topicArn, SERVICE_NAME: config.service, STAGE_NAME: config.stage });
});

describe('notify-run: a failed run, told in words', () => {
  it('names the stage, the execution, the pipeline and its execution id, the error and its plain message, and the console link', async () => {
    const failure = await realPipelineFailure();
    const event = statusChange({ error: 'PipelineFailed', cause: lambdaCause(failure) });

    await notify(event);

    expect(topic).toHaveReceivedCommandTimes(PublishCommand, 1);
    const { Message: message, Subject: subject, TopicArn } = topic.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(TopicArn).toBe(topicArn);
    expect(subject).toBe('codepipeline-sequencer prod: run 4f6c0e2a failed (PipelineFailed)');
    expect(message).toContain('codepipeline-sequencer on stage prod: run 4f6c0e2a failed.');
    expect(message).toContain(`Pipeline:  P2 (position 2 of 3), execution ${pipelineExecutionId}`);
    expect(message).toContain('Error:     PipelineFailed');
    expect(message).toContain(`Message:   ${failure.message}`);
    expect(message).toContain(`Execution: ${executionArn}`);
    expect(message).toContain(`Console:   https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${executionArn}`);
    expect(message).toContain('Runbook:   README.md, section Runbook (under Operating on AWS)');
    // No JSON and no stack trace, though the cause held both.
    expect(event.detail.cause).toContain('"trace"');
    expect(message).not.toMatch(/[{}[\]"]|errorType|errorMessage|trace|\.ts:\d+|\n\s+at /);
  });

  it('names the pipeline a crash left, from the cause every handler error carries', () => {
    const cause = lambdaCause(
      Object.assign(new Error('CodePipeline stayed unavailable (the run was at position 2 of 3: P2 execution abc-123 (InProgress))'), { name: 'AwsUnavailable' }),
    );

    const { message } = notificationFor(statusChange({ error: 'AwsUnavailable', cause }), config)!;

    expect(message).toContain('Pipeline:  P2 (position 2 of 3), execution abc-123');
    expect(message).toContain('Error:     AwsUnavailable');
  });

  it.each([
    [
      'a start refused',
      'AwsRequestRejected',
      'StartPipelineExecution P2: AccessDeniedException: not authorized to perform codepipeline:StartPipelineExecution (the run was about to start position 2 of 3)',
      'P2 (position 2 of 3), not started',
    ],
    ['the order checked before any start', 'PipelineAccessDenied', 'GetPipeline deploy-prod-us: AccessDeniedException: not authorized', 'deploy-prod-us, checked before any start (nothing was started)'],
  ])('names the pipeline of %s, from the call the cause names', (_, name, message, named) => {
    const cause = lambdaCause(Object.assign(new Error(message), { name }));

    const { message: told } = notificationFor(statusChange({ error: name, cause }), config)!;

    expect(told).toContain(`Pipeline:  ${named}\n`);
  });

  it('points a failure that names no pipeline at a status command for its own stage and region', () => {
    const { message } = notificationFor({ ...statusChange({ status: 'TIMED_OUT' }), region: 'eu-west-1' }, config)!;

    expect(message).toContain('Pipeline:  none named (the cause does not say; `npx --no sequencer status --stage prod --region eu-west-1 --execution 4f6c0e2a` shows the failed state)');
  });

  it('shortens a long run name in the subject, never the error’s name, within SNS’s 100 characters', () => {
    const name = '9e9d4459-6a1f-4c2b-8d3e-c154f1bea752';

    const { subject } = notificationFor(statusChange({ name, error: 'PipelineAccessDenied', cause: 'GetPipeline P1: denied' }), { service: 'codepipeline-sequencer', stage: 'staging' })!;

    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^codepipeline-sequencer staging: run 9e9d4459-\S+\.\.\.\S+bea752 failed \(PipelineAccessDenied\)$/);
  });

  it('says so when Step Functions gives no error and no cause (an execution timeout) or a plain-text one (a stop)', () => {
    const timedOut = notificationFor(statusChange({ status: 'TIMED_OUT' }), config)!;
    const stopped = notificationFor(statusChange({ status: 'ABORTED', error: 'Stopped', cause: 'Stopped by alice before the release window closed' }), config)!;

    expect(timedOut.message).toContain('run 4f6c0e2a timed out.');
    expect(timedOut.message).toContain('Error:     none given');
    expect(timedOut.message).toContain('Pipeline:  none named');
    expect(stopped.message).toContain('run 4f6c0e2a was stopped.');
    expect(stopped.message).toContain('Message:   Stopped by alice before the release window closed');
  });

  it('keeps a Lambda timeout to its one line, without the payload around it', () => {
    const cause = JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: 9a8b Error: Task timed out after 20.00 seconds' });

    const { message } = notificationFor(statusChange({ error: 'Sandbox.Timedout', cause }), config)!;

    expect(message).toContain('Error:     Sandbox.Timedout');
    expect(message).toContain('Message:   RequestId: 9a8b Error: Task timed out after 20.00 seconds');
  });
});

describe('notify-run: success only at the true end of a train', () => {
  it('tells the end of a train, with the pipelines it ran', async () => {
    await notify(statusChange({ status: 'SUCCEEDED', output: summaryOutput, outputDetails: { included: true } }));

    const { Message: message } = topic.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(message).toContain('run 4f6c0e2a succeeded across 3 executions.');
    expect(message).toContain('Pipelines: P1, P2, P3 (sequence release)');
  });

  it.each([
    ['a continuation hand-off', JSON.stringify({ continuedAs: `${executionArn}-g2`, startDate: '2026-12-01T06:00:00Z' })],
    ['a dry run', JSON.stringify({ order: ['P1'], count: 1, source: 'order', dryRun: true, variables: {} })],
    ['a skipped scheduled run', JSON.stringify({ reason: 'the scheduled run was skipped (scheduleWhenBusy: skip): another run ...' })],
  ])('publishes nothing for %s', async (_, output) => {
    const result = await notify(statusChange({ status: 'SUCCEEDED', output, outputDetails: { included: true } }));

    expect(result).toEqual({ published: false });
    expect(topic).not.toHaveReceivedCommand(PublishCommand);
  });

  it('reads a large output back when the event left it out, before deciding', async () => {
    stepFunctions.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', output: summaryOutput });

    await notify(statusChange({ status: 'SUCCEEDED', output: null, outputDetails: { included: false } }));

    expect(stepFunctions).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn });
    expect(topic).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('fails when the topic refuses, so that Lambda retries and then keeps the event in the dead-letter queue', async () => {
    topic.on(PublishCommand).rejects(Object.assign(new Error('Authorization error'), { name: 'AuthorizationErrorException' }));

    await expect(notify(statusChange({ status: 'TIMED_OUT' }))).rejects.toMatchObject({ name: 'AuthorizationErrorException' });
  });
});

describe('README.md', () => {
  it("shows the notification sample exactly as the formatter writes it for a real PipelineFailed", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const failure = await realPipelineFailure();
    const { message } = notificationFor(statusChange({ error: 'PipelineFailed', cause: lambdaCause(failure) }), config)!;

    expect(readme).toContain(`\`\`\`text\n${message}\n\`\`\``);
  });
});

