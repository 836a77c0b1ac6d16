import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { statusJson, statusLines } from '../../bin/cli.js';
import { failureLine, palette } from '../../bin/format.js';
import { foldTrain, type ExecutionRead } from '../../bin/status.js';
import type { Member, Plan, Run } from '../../src/run.js';
import { plan as fixturePlan } from '../support/fixtures.js';

/**
 * `status` of an execution redriven more than once, each time after it ended another way than
 * failing: stopped, then timed out. Step Functions' history is the only place that still says so
 * (DescribeExecution tells the last attempt alone), so it is built here event by event.
 */

const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-prod';
const startedAt = Date.UTC(2026, 0, 5, 9, 0);
const minutes = (count: number) => new Date(startedAt + count * 60_000);

const plan: Plan = fixturePlan({
  order: ['build', ['deploy-eu', 'deploy-us']],
  count: 2,
  pipelineTimeoutSeconds: 3600,
  decidedAt: minutes(0).toISOString(),
});

const member = (index: number, pipelineName: string): Member => ({
  position: 1,
  member: index,
  pipelineName,
  attempt: 0,
  status: 'InProgress',
  pipelineExecutionId: `${pipelineName}-1`,
  startedAt: minutes(10).toISOString(),
  polls: 0,
  supersededExecutionIds: [],
  earlierExecutionIds: [],
});

const run: Run = {
  index: 1,
  phase: 'watch',
  waitSeconds: 30,
  members: [member(0, 'deploy-eu'), member(1, 'deploy-us')],
  results: [{ position: 0, member: 0, pipelineName: 'build', status: 'Succeeded', pipelineExecutionId: 'build-1', startedAt: minutes(0).toISOString(), finishedAt: minutes(10).toISOString() }],
  history: { events: 0, pending: 0 },
  redrives: 0,
  generation: 1,
  origin: { executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:release-42`, executionName: 'release-42' },
};

/** The history, one event a line: `[minute, type, details]`. */
function history(events: [number, string, Partial<HistoryEvent>?][]): HistoryEvent[] {
  return events.map(([minute, type, details], index) => ({ id: index + 1, timestamp: minutes(minute), type, ...details }) as HistoryEvent);
}

const entered = (name: string, type = 'Task'): [string, Partial<HistoryEvent>] => [`${type}StateEntered`, { stateEnteredEventDetails: { name } }];
const succeeded = (output: unknown): [string, Partial<HistoryEvent>] => ['LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: JSON.stringify(output) } }];

/** The train's one execution, running its third attempt. */
const redrivenTwice = (): ExecutionRead => ({
  name: 'release-42',
  arn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:release-42`,
  described: { status: 'RUNNING', startDate: minutes(0), redriveCount: 2 },
  history: history([
    [0, 'ExecutionStarted'],
    [0, ...entered('DecideOrder')],
    [0, 'LambdaFunctionScheduled'],
    [0, ...succeeded({ plan, run: { ...run, index: 0, members: [], results: [] } })],
    [10, ...entered('StartPipelines')],
    [10, 'LambdaFunctionScheduled'],
    [10, ...succeeded(run)],
    [10, ...entered('WaitForPipelines', 'Wait')],
    [25, 'ExecutionAborted', { executionAbortedEventDetails: { cause: 'release called off' } }],
    [40, 'ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount: 1 } }],
    [40, ...entered('WaitForPipelines', 'Wait')],
    [70, 'ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'The execution ran past its TimeoutSeconds' } }],
    [95, 'ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount: 2 } }],
    [95, ...entered('WaitForPipelines', 'Wait')],
  ]),
});

describe('status of an execution stopped, redriven, timed out and redriven again', () => {
  it('tells each earlier attempt: how it ended, in which state, on which pipelines, when, and when it was redriven', () => {
    // Prepare
    const read = redrivenTwice();

    // Act
    const report = foldTrain([read], stateMachineArn, {});

    // Assess
    expect(report.status).toBe('RUNNING');
    expect(report.earlierAttempts).toEqual([
      {
        executionName: 'release-42',
        attempt: 1,
        status: 'ABORTED',
        cause: 'release called off',
        state: 'WaitForPipelines',
        pipelines: ['deploy-eu', 'deploy-us'],
        endedAt: minutes(25).getTime(),
        redrivenAt: minutes(40).getTime(),
      },
      {
        executionName: 'release-42',
        attempt: 2,
        status: 'TIMED_OUT',
        error: 'States.Timeout',
        cause: 'The execution ran past its TimeoutSeconds',
        state: 'WaitForPipelines',
        pipelines: ['deploy-eu', 'deploy-us'],
        endedAt: minutes(70).getTime(),
        redrivenAt: minutes(95).getTime(),
      },
    ]);
  });

  it('prints them above the outcome of the attempt running now, and in --json with ISO times', () => {
    // Prepare
    const report = foldTrain([redrivenTwice()], stateMachineArn, {});

    // Act
    const lines = statusLines(report, palette(false), true);
    const document = statusJson(report);

    // Assess
    expect(lines.slice(-5)).toEqual([
      'release-42 attempt 1  ABORTED at 2026-01-05T09:25:00Z in WaitForPipelines (deploy-eu, deploy-us), redriven at 2026-01-05T09:40:00Z',
      '  release called off',
      'release-42 attempt 2  TIMED OUT at 2026-01-05T10:10:00Z in WaitForPipelines (deploy-eu, deploy-us), redriven at 2026-01-05T10:35:00Z',
      '  States.Timeout: The execution ran past its TimeoutSeconds',
      expect.stringMatching(/^RUNNING {2}1 of 3 pipelines succeeded so far/) as string,
    ]);
    expect(document.earlierAttempts.map((attempt) => [attempt.attempt, attempt.status, attempt.endedAt, attempt.redrivenAt])).toEqual([
      [1, 'ABORTED', '2026-01-05T09:25:00.000Z', '2026-01-05T09:40:00.000Z'],
      [2, 'TIMED_OUT', '2026-01-05T10:10:00.000Z', '2026-01-05T10:35:00.000Z'],
    ]);
  });
});

describe('a stop, read from the history', () => {
  it('is a line of the train’s story, in the state it came in, with its cause, before the redrive; a timeout is no stop', () => {
    // Prepare
    const report = foldTrain([redrivenTwice()], stateMachineArn, {});

    // Act
    const story = report.events.flatMap((event) =>
      event.type === 'stopped' ? [[event.type, event.state, event.cause, event.at]] : event.type === 'redriven' ? [[event.type, event.state, event.redriveCount, event.at]] : [],
    );
    const lines = statusLines(report, palette(false), true);

    // Assess
    expect(story).toEqual([
      ['stopped', 'WaitForPipelines', 'release called off', minutes(25).getTime()],
      ['redriven', 'WaitForPipelines', 1, minutes(40).getTime()],
      ['redriven', 'WaitForPipelines', 2, minutes(95).getTime()],
    ]);
    const stopLine = lines.findIndex((line) => line.includes(' stopped in '));
    expect(lines[stopLine]).toBe('2026-01-05T09:25:00Z  release-42 stopped in WaitForPipelines: release called off');
    expect(lines[stopLine + 1]).toBe('2026-01-05T09:40:00Z  release-42 redriven from WaitForPipelines (redrive 1)');
  });
});

describe('a train that was stopped and not redriven', () => {
  it('says who stopped it and why in --json and in the line a CI job reads, as a failure does', () => {
    // Prepare: the history of redrivenTwice's first attempt, as StopExecution left it.
    const read = redrivenTwice();
    const stopped: ExecutionRead = { ...read, described: { status: 'ABORTED', startDate: minutes(0), cause: 'release called off' }, history: read.history.slice(0, 9) };

    // Act
    const report = foldTrain([stopped], stateMachineArn, {});

    // Assess
    expect(statusJson(report)).toMatchObject({ status: 'ABORTED', cause: 'release called off' });
    expect(failureLine(report, palette(false))).toBe('ABORTED  the run was stopped: release called off');
  });

  it('keeps the line a CI job reads one line, whatever the cause given to the stop (`--cause $\'a\\nb\'`, the console)', () => {
    // Prepare
    const read = redrivenTwice();
    const stopped: ExecutionRead = { ...read, described: { status: 'ABORTED', startDate: minutes(0), cause: 'called off:\nthe release\nis tomorrow' }, history: read.history.slice(0, 9) };

    // Act
    const line = failureLine(foldTrain([stopped], stateMachineArn, {}), palette(false));

    // Assess
    expect(line).toBe('ABORTED  the run was stopped: called off: the release; is tomorrow');
  });
});

describe('an attempt that failed while it started the next entry', () => {
  it('names that entry’s pipelines, though none of them had started', () => {
    // Prepare: decided, then StartPipelines failed before the group started; redriven at 5 min.
    const read: ExecutionRead = {
      name: 'release-43',
      arn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:release-43`,
      described: { status: 'RUNNING', startDate: minutes(0), redriveCount: 1 },
      history: history([
        [0, 'ExecutionStarted'],
        [0, ...entered('DecideOrder')],
        [0, 'LambdaFunctionScheduled'],
        [0, ...succeeded({ plan, run: { ...run, members: [], results: run.results } })],
        [0, ...entered('StartPipelines')],
        [1, 'ExecutionFailed', { executionFailedEventDetails: { error: 'AwsUnavailable', cause: 'StartPipelineExecution: throttled' } }],
        [5, 'ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount: 1 } }],
        [5, ...entered('StartPipelines')],
      ]),
    };

    // Act
    const report = foldTrain([read], stateMachineArn, {});

    // Assess
    expect(report.earlierAttempts).toEqual([expect.objectContaining({ attempt: 1, status: 'FAILED', state: 'StartPipelines', pipelines: ['deploy-eu', 'deploy-us'] })]);
  });
});
