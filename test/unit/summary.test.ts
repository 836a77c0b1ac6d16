import { offsetFrom, palette, summary } from '../../bin/format.js';
import { executionCell, pipelinesJson, positionCell, RunState, summaryRows } from '../../bin/summary.js';
import type { Member, OrderEntry, PipelineResult, Plan, Run } from '../../src/run.js';

const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 9, minutes)).toISOString();

const planOf = (order: OrderEntry[], extra: Partial<Plan> = {}): Plan => ({
  order,
  count: order.length,
  source: 'order',
  dryRun: false,
  variables: {},
  onSuperseded: 'follow',
  pipelineTimeoutSeconds: 3600,
  polling: { pollSeconds: 30, maxPollSeconds: 300 },
  decidedAt: at(0),
  ...extra,
});

const runOf = (index: number, results: PipelineResult[], members: Member[] = []): Run => ({
  index,
  phase: members.length > 0 ? 'watch' : 'start',
  waitSeconds: 0,
  members,
  results,
  history: { events: 0, pending: 0 },
  redrives: 0,
  generation: 1,
  origin: { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:e', executionName: 'e' },
});

const succeeded = (position: number, pipelineName: string, id: string, member = 0): PipelineResult => ({
  position,
  member,
  pipelineName,
  status: 'Succeeded',
  pipelineExecutionId: id,
  startedAt: at(position * 10),
  finishedAt: at(position * 10 + 5),
  detectedAt: at(position * 10 + 6),
  supersededExecutionIds: [],
});

const member = (position: number, pipelineName: string, fields: Partial<Member> = {}): Member => ({
  position,
  member: 0,
  pipelineName,
  attempt: 0,
  status: 'InProgress',
  polls: 1,
  supersededExecutionIds: [],
  earlierExecutionIds: [],
  ...fields,
});

describe('summaryRows: one row per planned pipeline, from the run state', () => {
  it('a succeeded run: every row Succeeded with its execution and how late its end was noticed', () => {
    const plan = planOf(['P1', 'P2']);
    const run = runOf(2, [succeeded(0, 'P1', 'a'), succeeded(1, 'P2', 'b')]);

    const rows = summaryRows(plan, run, { status: 'SUCCEEDED' });

    expect(rows.map((row) => [row.position, row.pipelineName, row.status, row.pipelineExecutionId, row.reason])).toEqual([
      [1, 'P1', 'Succeeded', 'a', undefined],
      [2, 'P2', 'Succeeded', 'b', undefined],
    ]);
    expect(rows[0]!.detectionSeconds).toBe(60);
  });

  it('how late an end was noticed, to the millisecond in --json, in whole seconds in the table', () => {
    const plan = planOf(['P1']);
    const noticed = { ...succeeded(0, 'P1', 'a'), detectedAt: new Date(Date.parse(at(5)) + 1054).toISOString(), detectedBy: 'event' as const };
    const rows = summaryRows(plan, runOf(1, [noticed]), { status: 'SUCCEEDED' });

    expect(pipelinesJson(rows)[0]).toMatchObject({ detectionSeconds: 1.054, detectedBy: 'event' });
    expect(summary({ status: 'SUCCEEDED', stats: { stateTransitions: 1, historyEvents: 1, lambdaInvocations: 1, simulatedSeconds: 1 } }, rows, palette(false), offsetFrom(Date.parse(at(0))))[2]).toMatch(/ \+1 s event /);
  });

  it('the last line: how long the pipelines took, and for a dry run no duration at all, since nothing ran', () => {
    const stats = { stateTransitions: 3, historyEvents: 11, lambdaInvocations: 1, simulatedSeconds: 0 };
    const time = offsetFrom(Date.parse(at(0)));
    const ran = summaryRows(planOf(['P1']), runOf(1, [succeeded(0, 'P1', 'a')]), { status: 'SUCCEEDED' });
    const dry = summaryRows(planOf(['P1'], { dryRun: true }), runOf(0, []), { status: 'SUCCEEDED' });

    const ranLine = summary({ status: 'SUCCEEDED', stats: { ...stats, simulatedSeconds: 360 } }, ran, palette(false), time, { clock: 'simulated' }).at(-1);
    const dryLine = summary({ status: 'SUCCEEDED', stats }, dry, palette(false), time, { clock: 'simulated' }).at(-1);

    expect(ranLine).toBe('SUCCEEDED  1 pipeline succeeded in 6 min of simulated time (3 state transitions, 11 history events, 1 Lambda invocation)');
    expect(dryLine).toBe('SUCCEEDED  dry run: the plan is valid, nothing was started (3 state transitions, 11 history events, 1 Lambda invocation)');
  });

  it('a run failed in the middle: the failure with its reason, the later pipelines Not started', () => {
    const plan = planOf(['P1', 'P2', 'P3']);
    const failed = member(1, 'P2', {
      status: 'Failed',
      pipelineExecutionId: 'b',
      statusSummary: 'Unit tests failed',
      error: 'PipelineFailed',
      startedAt: at(10),
      finishedAt: at(15),
      detectedAt: at(15),
    });
    const run = runOf(1, [succeeded(0, 'P1', 'a')], [failed]);

    const rows = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineFailed', cause: 'P2 (position 2 of 3) execution b ended Failed: Unit tests failed. Later pipelines were not started.' });

    expect(rows.map((row) => [row.pipelineName, row.status, row.pipelineExecutionId ?? '-', row.reason ?? ''])).toEqual([
      ['P1', 'Succeeded', 'a', ''],
      ['P2', 'Failed', 'b', 'PipelineFailed: Unit tests failed'],
      ['P3', 'Not started', '-', 'position 2 did not succeed'],
    ]);
    expect(rows[1]!.detectionSeconds).toBe(0);
  });

  it('superseded and followed, the newer one failed: the row names both executions and the failure the error tells of', () => {
    const plan = planOf(['P1', 'P2']);
    const cause = 'P2 (position 2 of 2) execution newer ended Failed: Deploy failed; it had superseded ours.';
    // What Step Functions' history shows: the last look saw ours InProgress; the failing look is only its error.
    const run = runOf(1, [succeeded(0, 'P1', 'a')], [member(1, 'P2', { pipelineExecutionId: 'ours', startedAt: at(10) })]);

    const [, row] = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineFailed', cause });

    expect(row).toMatchObject({ status: 'Failed', pipelineExecutionId: 'newer', supersededExecutionIds: ['ours'], reason: 'PipelineFailed: Deploy failed' });
    expect(executionCell(row!)).toBe('newer (superseded ours)');
  });

  it('superseded many times: the row lists the executions the cause names and counts the others, in the table and in --json', () => {
    const plan = planOf(['P1', 'P2']);
    const cause = 'P2 (position 2 of 2) execution newest ended Failed: Deploy failed; it had superseded ours, s6, s7 and 4 others.';
    const run = runOf(1, [succeeded(0, 'P1', 'a')], [member(1, 'P2', { pipelineExecutionId: 's7', startedAt: at(10), supersededExecutionIds: ['ours', 's5', 's6'], supersededOmitted: 3 })]);

    const [, row] = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineFailed', cause });

    expect(row).toMatchObject({ status: 'Failed', pipelineExecutionId: 'newest', supersededExecutionIds: ['ours', 's6', 's7'], supersededOmitted: 4, reason: 'PipelineFailed: Deploy failed' });
    expect(executionCell(row!)).toBe('newest (superseded ours, s6, s7 and 4 others)');
    expect(pipelinesJson([row!])[0]).toMatchObject({ supersededExecutionIds: ['ours', 's6', 's7'], supersededOmitted: 4 });
  });

  it('a group with one failing member: a row per member, marked as such, the other member as it ended', () => {
    const plan = planOf(['P1', ['P2', 'P3'], 'P4']);
    const members = [
      member(1, 'P2', { member: 0, status: 'Succeeded', pipelineExecutionId: 'b', startedAt: at(10), finishedAt: at(12), detectedAt: at(12) }),
      member(1, 'P3', { member: 1, status: 'Failed', pipelineExecutionId: 'c', statusSummary: 'Lint failed', error: 'PipelineFailed', startedAt: at(10) }),
    ];
    const run = runOf(1, [succeeded(0, 'P1', 'a')], members);

    const rows = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineFailed', cause: 'P3 (position 2 of 3, in a group of 2) execution c ended Failed: Lint failed.' });

    expect(rows.map((row) => [positionCell(row), row.pipelineName, row.status, row.reason ?? ''])).toEqual([
      ['1', 'P1', 'Succeeded', ''],
      ['2.1', 'P2', 'Succeeded', ''],
      ['2.2', 'P3', 'Failed', 'PipelineFailed: Lint failed'],
      ['3', 'P4', 'Not started', 'position 2 did not succeed'],
    ]);
    expect(rows[1]).toMatchObject({ member: 1, groupSize: 2 });
  });

  it('a group read from Step Functions’ history alone: each member’s end is read from the cause', () => {
    const plan = planOf(['P1', ['P2', 'P3']]);
    const inFlight = [member(1, 'P2', { member: 0, pipelineExecutionId: 'b' }), member(1, 'P3', { member: 1, pipelineExecutionId: 'c' })];
    const run = runOf(1, [succeeded(0, 'P1', 'a')], inFlight);
    const cause = 'P3 (position 2 of 2, in a group of 2) execution c ended Failed: Lint failed. Other members of the group: P2 (position 2 of 2, in a group of 2) execution b Succeeded.';

    const rows = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineFailed', cause });

    expect(rows.map((row) => [positionCell(row), row.status, row.pipelineExecutionId, row.reason])).toEqual([
      ['1', 'Succeeded', 'a', undefined],
      ['2.1', 'Succeeded', 'b', undefined],
      ['2.2', 'Failed', 'c', 'PipelineFailed: Lint failed'],
    ]);
  });

  it('a group read from the cause, its members ended otherwise: each row’s reason names its own error, as the local run’s row does', () => {
    const plan = planOf([['S', 'X', 'U'], 'OK']);
    const inFlight = ['S', 'X', 'U'].map((name, index) => member(0, name, { member: index, pipelineExecutionId: name.toLowerCase() }));
    const run = runOf(0, [], inFlight);
    const cause =
      'S (position 1 of 2, in a group of 3) execution s ended Stopped: stopped by alice. Other members of the group: ' +
      'X (position 1 of 2, in a group of 3) execution x ended Cancelled: CodePipeline gave no statusSummary; ' +
      'U (position 1 of 2, in a group of 3) execution u ended Failed: CodePipeline gave no statusSummary; it had superseded o. Later pipelines were not started.';

    const rows = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineStopped', cause });

    expect(rows.map((row) => [positionCell(row), row.status, row.reason])).toEqual([
      ['1.1', 'Stopped', 'PipelineStopped: stopped by alice'],
      ['1.2', 'Cancelled', 'PipelineCancelled'],
      ['1.3', 'Failed', 'PipelineFailed'],
      ['2', 'Not started', 'position 1 did not succeed'],
    ]);
    expect(rows[2]!.supersededExecutionIds).toEqual(['o']);
  });

  it('a group across accounts, read from the cause: where each is, a retry held and released, each member read whole', () => {
    const plan = planOf([['EU', 'US', 'HUB'], 'OK'], { onFailure: 'wait' });
    const inFlight = ['EU', 'US', 'HUB'].map((name, index) => member(0, name, { member: index, pipelineExecutionId: name.toLowerCase(), ...(index === 0 && { status: 'Failed', waitingForRetry: true }) }));
    const run = runOf(0, [], inFlight);
    const cause =
      'EU (position 1 of 2, in a group of 3) execution eu in account 222233334444, eu-west-1 (pipeline deploy-api) ended Failed: flaky; it was retried in CodePipeline once and failed again, then waited for another retry until its deadline (pipelineTimeoutSeconds 3600) and saw none. Other members of the group: ' +
      'US (position 1 of 2, in a group of 3) execution us in account 333344445555, us-east-1 ended Failed: lint; it was retried in CodePipeline once and failed again; not held for a retry: HUB ended Stopped, so no retry can let the entry succeed; ' +
      'HUB (position 1 of 2, in a group of 3) execution hub ended Stopped: stopped by alice. Later pipelines were not started.';

    const rows = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineFailed', cause });

    expect(rows.map((row) => [positionCell(row), row.status, row.pipelineExecutionId, row.reason])).toEqual([
      ['1.1', 'Failed', 'eu', 'PipelineFailed: flaky'],
      ['1.2', 'Failed', 'us', 'PipelineFailed: lint'],
      ['1.3', 'Stopped', 'hub', 'PipelineStopped: stopped by alice'],
      ['2', 'Not started', undefined, 'position 1 did not succeed'],
    ]);
  });

  it('a timeout read from the cause of a pipeline elsewhere: TimedOut', () => {
    const run = runOf(0, [], [member(0, 'P1', { pipelineExecutionId: 'a' })]);
    const cause = 'P1 (position 1 of 1) execution a in account 222233334444, eu-west-1 is still InProgress after 1 h 01 min 40 s, past pipelineTimeoutSeconds 3600 (1 h). The pipeline was left running';

    const [row] = summaryRows(planOf(['P1']), run, { status: 'FAILED', error: 'PipelineTimedOut', cause });

    expect(row).toMatchObject({ status: 'TimedOut', reason: 'PipelineTimedOut: past pipelineTimeoutSeconds; left running' });
  });

  it.each([
    ['as check-status writes it', 'after 1 h 01 min 40 s, past pipelineTimeoutSeconds 3600 (1 h)'],
    ['as an older deployment wrote it', 'after 3700 s, past pipelineTimeoutSeconds 3600'],
  ])('a timeout read from the cause, %s: TimedOut, left running', (_, told) => {
    const plan = planOf(['P1']);
    const run = runOf(0, [], [member(0, 'P1', { pipelineExecutionId: 'a' })]);
    const cause = `P1 (position 1 of 1) execution a is still InProgress ${told}. The pipeline was left running`;

    const [row] = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineTimedOut', cause });

    expect(row).toMatchObject({ status: 'TimedOut', reason: 'PipelineTimedOut: past pipelineTimeoutSeconds; left running' });
  });

  it('from: the entries before it are Skipped, with why', () => {
    const plan = planOf(['P1', 'P2'], { from: 'P2' });
    const skipped: PipelineResult = { position: 0, member: 0, pipelineName: 'P1', status: 'Skipped' };
    const run = runOf(2, [skipped, succeeded(1, 'P2', 'b')]);

    const rows = summaryRows(plan, run, { status: 'SUCCEEDED' });

    expect(rows.map((row) => [row.status, row.reason])).toEqual([
      ['Skipped', 'before from P2'],
      ['Succeeded', undefined],
    ]);
  });

  it('a redrive: the row shows the execution of the new attempt and the earlier one', () => {
    const plan = planOf(['P1']);
    const state = new RunState();
    state.see({ plan, run: runOf(0, []) });
    state.see(runOf(0, [], [member(0, 'P1', { attempt: 1, pipelineExecutionId: 'second', earlierExecutionIds: ['first'], status: 'InProgress', startedAt: at(30) })]));

    const [row] = summaryRows(state.plan, state.run, { status: 'RUNNING' });

    expect(row).toMatchObject({ status: 'InProgress', pipelineExecutionId: 'second', earlierExecutionIds: ['first'] });
    expect(row!.reason).toBeUndefined();
    expect(executionCell(row!)).toBe('second (earlier attempt first)');
  });

  it('a redrive that succeeded: the finished row still names the earlier attempt', () => {
    const plan = planOf(['P1']);
    const result = { position: 0, member: 0, pipelineName: 'P1', status: 'Succeeded', pipelineExecutionId: 'second', attempt: 1, earlierExecutionIds: ['first'] };

    const [row] = summaryRows(plan, runOf(1, [result]), { status: 'SUCCEEDED' });

    expect(executionCell(row!)).toBe('second (earlier attempt first)');
  });

  it('a run stopped while a pipeline ran: that row says it was left running, the rest Not started', () => {
    const plan = planOf(['P1', 'P2']);
    const run = runOf(0, [], [member(0, 'P1', { pipelineExecutionId: 'a', startedAt: at(0) })]);

    const rows = summaryRows(plan, run, { status: 'ABORTED' });

    expect(rows.map((row) => [row.status, row.reason])).toEqual([
      ['InProgress', 'left running (the run was stopped)'],
      ['Not started', 'the run was stopped first'],
    ]);
  });

  it('a run that failed because it could not look: that row says how the pipeline last stood, not that it was left running', () => {
    const plan = planOf(['P1', 'P2']);
    const run = runOf(0, [], [member(0, 'P1', { pipelineExecutionId: 'a', startedAt: at(0) })]);

    const [row] = summaryRows(plan, run, { status: 'FAILED', error: 'PipelineNotFound', cause: "pipeline 'P1' does not exist any more" });

    expect(row!.reason).toBe('last seen InProgress; the run could not look again (PipelineNotFound)');
  });

  it('the last line of a stopped run names the pipelines it left running, or says none was', () => {
    const stats = { stateTransitions: 9, historyEvents: 30, lambdaInvocations: 3, simulatedSeconds: 600 };
    const lastLines = (members: Member[]) =>
      summary({ status: 'ABORTED', stats }, summaryRows(planOf([['P1', 'P2']]), runOf(0, [], members), { status: 'ABORTED' }), palette(false), offsetFrom(Date.parse(at(0))), { clock: 'real' }).slice(-2, -1);

    const running = lastLines([member(0, 'P1', { pipelineExecutionId: 'a', startedAt: at(0) }), { ...member(0, 'P2', { pipelineExecutionId: 'b', startedAt: at(0) }), member: 1 }]);
    const held = lastLines([
      member(0, 'P1', { pipelineExecutionId: 'a', startedAt: at(0), status: 'Failed', waitingForRetry: true, deadline: at(60) }),
      { ...member(0, 'P2', { pipelineExecutionId: 'b', startedAt: at(0), status: 'Failed', waitingForRetry: true, deadline: at(60) }), member: 1 },
    ]);

    expect(running).toEqual(['ABORTED  the run was stopped; P1, P2 were left running in CodePipeline']);
    expect(held).toEqual(['ABORTED  the run was stopped; no pipeline was running']);
  });

  it('--json marks a pipeline whose execution a redrive found started by the attempt that failed, succeeded or still running', () => {
    const plan = planOf(['P1', 'P2', 'P3']);
    const run = runOf(
      1,
      [{ ...succeeded(0, 'P1', 'a'), startLost: true }],
      [member(1, 'P2', { pipelineExecutionId: 'b', startedAt: at(10), startLost: true })],
    );

    const json = pipelinesJson(summaryRows(plan, run, { status: 'RUNNING' }));

    expect(json.map((pipeline) => [pipeline.pipelineName, pipeline.startLost])).toEqual([
      ['P1', true],
      ['P2', true],
      ['P3', undefined],
    ]);
  });

  it('--json: pipelines in planned order, each with position, name, status and the execution watched', () => {
    const plan = planOf(['P1', 'P2']);
    const run = runOf(1, [succeeded(0, 'P1', 'a')], [member(1, 'P2', { status: 'Pending' })]);

    const json = pipelinesJson(summaryRows(plan, run, { status: 'FAILED', error: 'AwsUnavailable', cause: 'CodePipeline did not answer' }));

    expect(json).toEqual([
      expect.objectContaining({ position: 1, pipelineName: 'P1', status: 'Succeeded', pipelineExecutionId: 'a' }),
      { position: 2, pipelineName: 'P2', status: 'Not started', reason: 'AwsUnavailable' },
    ]);
  });
});
