import 'aws-sdk-client-mock-jest';
import { CodePipelineClient, GetPipelineCommand, PipelineNotFoundException } from '@aws-sdk/client-codepipeline';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/decide-order.js';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb.js';
import { useClock } from '../../src/clock.js';
import { awsError, execution, useStageConfig } from '../support/fixtures.js';

const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const startTime = '2026-01-05T06:00:00.000Z';

const decide = (input: unknown) => core({ input, execution: { ...execution, stateMachineArn, startTime }, retryCount: 0, redriveCount: 0 });

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  useStageConfig();
  useClock({ now: () => Date.parse(startTime) });
  codePipeline.on(GetPipelineCommand).callsFake(({ name }) => ({
    pipeline: { name, pipelineType: name === 'V1Pipe' ? 'V1' : 'V2', roleArn: 'r', stages: [] },
  }));
  stepFunctions.on(ListExecutionsCommand).resolves({
    executions: [{ executionArn: execution.id, stateMachineArn, name: execution.name, status: 'RUNNING', startDate: new Date(startTime) }],
  });
});

describe('decide-order: which order', () => {
  it('takes an explicit order first', async () => {
    const { plan, run } = await decide({ order: ['P3', 'P2', 'P1'], sequence: 'hotfix' });

    expect(plan).toMatchObject({ order: ['P3', 'P2', 'P1'], count: 3, source: 'order', dryRun: false });
    expect(run).toEqual({
      index: 0,
      phase: 'start',
      waitSeconds: 0,
      members: [],
      results: [],
      // ExecutionStarted, then DecideOrder's five events; DryRun? and MorePipelines? before the first start.
      history: { events: 6, pending: 4 },
      redrives: 0,
      generation: 1,
      origin: { executionArn: execution.id, executionName: execution.name },
    });
  });

  it('takes a named sequence from the stage when no order is given', async () => {
    const { plan } = await decide({ sequence: 'hotfix' });

    expect(plan).toMatchObject({ order: ['P2', 'P3', 'P1'], source: 'sequence:hotfix' });
  });

  it("falls back to the stage's default sequence", async () => {
    const { plan } = await decide({});

    expect(plan).toMatchObject({ order: ['P1', 'P2', 'P3'], source: 'default:release' });
  });

  it('carries the stage settings and lets the input override the superseded policy and timeout', async () => {
    const { plan } = await decide({ onSuperseded: 'fail', pipelineTimeoutSeconds: 3600 });

    expect(plan).toMatchObject({ onSuperseded: 'fail', pipelineTimeoutSeconds: 3600, polling: { pollSeconds: 30, maxPollSeconds: 600 } });
  });

  it('takes onFailure from the stage (fail by default) unless the input says otherwise', async () => {
    expect((await decide({})).plan.onFailure).toBe('fail');
    expect((await decide({ onFailure: 'wait' })).plan.onFailure).toBe('wait');
  });

  it("fixes the stage config's continueAtEvents in the plan for the whole train, and adds nothing when it sets none", async () => {
    expect((await decide({})).plan).not.toHaveProperty('continueAtEvents');

    useStageConfig({ continueAtEvents: 2_000 });

    expect((await decide({})).plan.continueAtEvents).toBe(2_000);
  });

  it('checks every pipeline exists with GetPipeline', async () => {
    await decide({ order: ['P3', 'P1'] });

    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 2);
    expect(codePipeline).toHaveReceivedCommandWith(GetPipelineCommand, { name: 'P3' });
    expect(codePipeline).toHaveReceivedCommandWith(GetPipelineCommand, { name: 'P1' });
  });
});

describe('decide-order: refuses bad input by name, before anything else', () => {
  it.each([
    [{ oder: ['P1'] }, 'input: unknown field "oder"'],
    [{ order: 'P1' }, 'order: must be an array of pipeline names'],
    [{ order: [] }, 'order: must name at least one pipeline'],
    [{ order: ['P1', 'P1'] }, "order[1]: 'P1' appears twice"],
    [{ order: ['bad name'] }, 'order[0]: must be 1 to 100 characters'],
    [{ order: ['x'.repeat(101)] }, 'order[0]: must be 1 to 100 characters'],
    [{ order: Array.from({ length: 101 }, (_, index) => `P${index}`) }, 'order: must name at most 100 pipelines'],
    [{ sequence: 'nightly' }, "sequence: 'nightly' is not a sequence of this stage; the sequences are release, hotfix"],
    [{ sequence: 'has space' }, 'sequence: must be 1 to 64 characters'],
    [{ variables: { P9: { A: '1' } }, order: ['P1'] }, "variables.P9: 'P9' is not in the order"],
    [{ variables: { P1: { 'bad name': '1' } } }, 'variables.P1["bad name"]: variable names are 1 to 128 characters'],
    // A key a message names is a JSON string: the message stays one line, without a terminal escape.
    [{ variables: { P1: { 'X\n\u001b[31m': '1' } } }, 'variables.P1["X\\n\\u001b[31m"]: variable names are 1 to 128 characters'],
    [{ variables: { P1: { A: '' } } }, 'variables.P1.A: must not be empty'],
    [{ variables: { P1: { A: 'x'.repeat(1001) } } }, 'variables.P1.A: must be at most 1000 characters'],
    [{ variables: { P1: { A: 5 } } }, 'variables.P1.A: must be a string'],
    [{ variables: { P1: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`V${index}`, 'x'])) } }, 'variables.P1: at most 50 variables'],
    [{ dryRun: 'yes' }, 'dryRun: must be true or false'],
    [{ onSuperseded: 'ignore' }, "onSuperseded: must be 'follow' or 'fail'"],
    [{ onFailure: 'retry' }, "onFailure: must be 'fail' or 'wait'"],
    [{ pipelineTimeoutSeconds: 10 }, 'pipelineTimeoutSeconds: must be at least 60 seconds'],
    [{ pipelineTimeoutSeconds: 60.5 }, 'pipelineTimeoutSeconds: must be a whole number'],
    [{ pipelineTimeoutSeconds: 60 * 86_400 + 1 }, 'pipelineTimeoutSeconds: must be at most 5184000 seconds (60 days'],
    // JSON's 1e309 parses as Infinity: a number, too large, not "not a number".
    [{ pipelineTimeoutSeconds: Infinity }, 'pipelineTimeoutSeconds: must be at most 5184000 seconds (60 days'],
    [{ pipelineTimeoutSeconds: '600' }, 'pipelineTimeoutSeconds: must be a number'],
    [{ order: ['P1', ['P2']] }, 'order[1]: a group runs 2 to 10 pipelines at the same time; this one has 1'],
    [{ order: [Array.from({ length: 11 }, (_, index) => `P${index}`)] }, 'order[0]: a group runs 2 to 10 pipelines'],
    [{ order: ['P1', ['P2', 'P1']] }, "order[1][1]: 'P1' appears twice"],
    [{ order: [['P1', 'bad name']] }, 'order[0][1]: must be 1 to 100 characters'],
    [{ order: ['P1', ['P2', ['P3']]] }, 'order[1][1]: groups cannot be nested; a group is a list of pipeline names, all started at once'],
    [{ order: ['P1', 7] }, 'order[1]: must be a pipeline name, or a group'],
    [{ order: ['P1', 'P2'], from: 'P3' }, "from: 'P3' is not in the order (P1, P2)"],
    [{ order: ['P1'], from: 'bad name' }, 'from: must be 1 to 100 characters'],
    [JSON.parse('{"variables": {"__proto__": {"A": "1"}}}'), "variables.__proto__: '__proto__' is a reserved name"],
    [null, 'input: must be a JSON object'],
    [['P1'], 'input: must be a JSON object'],
  ])('%j → InvalidInput "%s"', async (input, message) => {
    const attempt = decide(input);

    await expect(attempt).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining(message) });
    expect(codePipeline).not.toHaveReceivedAnyCommand();
    expect(stepFunctions).not.toHaveReceivedAnyCommand();
  });

  it('names every problem of an input at once, unknown fields first, with the field a typo meant', async () => {
    const attempt = decide({ dryRun: 'yes', oder: ['P1'], dry_run: true, variables: { P1: { A: '' } } });

    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringMatching(
        /^3 problems: 1\) input: unknown fields "oder" \(did you mean "order"\?\), "dry_run" \(did you mean "dryRun"\?\); the fields are order, .*; 2\) (dryRun: must be true or false|variables\.P1\.A: must not be empty); 3\) (dryRun|variables\.P1\.A): /,
      ),
    });
    expect(codePipeline).not.toHaveReceivedAnyCommand();
  });

  it('names every problem of an order at once, and counts those past the tenth', async () => {
    const twoProblems = decide({ order: ['P1', 'bad name', 'P1'] });
    const manyProblems = decide({ order: Array.from({ length: 12 }, (_, index) => `bad name ${index}`) });

    await expect(twoProblems).rejects.toMatchObject({
      name: 'InvalidInput',
      message: `2 problems: 1) order[1]: must be 1 to 100 characters of A-Z a-z 0-9 . @ - _ (CodePipeline’s rule); got "bad name"; 2) order[2]: 'P1' appears twice; each pipeline runs once per run`,
    });
    await expect(manyProblems).rejects.toMatchObject({
      message: expect.stringMatching(/^12 problems: 1\) order\[0\]: .*; 10\) order\[9\]: .*"bad name 9"; and 2 more$/),
    });
  });

  it('names a variable and a from outside the order together', async () => {
    const attempt = decide({ order: ['P1', 'P2'], variables: { P3: { A: '1' } }, from: 'P4' });

    await expect(attempt).rejects.toMatchObject({
      message: "2 problems: 1) variables.P3: 'P3' is not in the order; 2) from: 'P4' is not in the order (P1, P2)",
    });
  });

  it('shows a long refused name cut, so that ten of them stay a readable cause', async () => {
    const attempt = decide({ order: ['x'.repeat(5000)] });

    await expect(attempt).rejects.toMatchObject({ message: `order[0]: must be 1 to 100 characters of A-Z a-z 0-9 . @ - _ (CodePipeline’s rule); got "${'x'.repeat(100)}"… (5000 characters)` });
  });

  it.each([
    ['a zero-width space', { order: ['P1\u200b'] }, 'order[0]', String.raw`"P1\u200B"`],
    ['a no-break space', { order: ['P1', 'P2'], from: 'P\u00a01' }, 'from', String.raw`"P\u00A01"`],
    ['a right-to-left mark', { sequence: 'release\u200f' }, 'sequence', String.raw`"release\u200F"`],
    ['a variation selector', { order: ['P1\ufe0f'] }, 'order[0]', String.raw`"P1\uFE0F"`],
    ['a Hangul filler', { order: ['P1\u3164'] }, 'order[0]', String.raw`"P1\u3164"`],
    // Visible: shown as it is.
    ['an emoji', { order: ['P1🚀'] }, 'order[0]', '"P1🚀"'],
  ])('shows a refused name holding %s so that it cannot read as a lookalike: only a character that does not show is escaped', async (_case, input, field, shown) => {
    const error = (await decide(input).catch((refusal: unknown) => refusal)) as Error;

    expect(error.name).toBe('InvalidInput');
    expect(error.message.startsWith(`${field}: must be `)).toBe(true);
    expect(error.message.endsWith(`; got ${shown}`)).toBe(true);
  });

  it('names an unknown field, and a key of a field, with a character that does not show escaped; cuts a long name between characters', async () => {
    const unknownField = (await decide({ 'sequ\u200bence': 'release' }).catch((refusal: unknown) => refusal)) as Error;
    const badKey = (await decide({ order: ['P1'], variables: { 'P1\u200b': { A: '1' } } }).catch((refusal: unknown) => refusal)) as Error;
    const longEmoji = (await decide({ order: ['🚀'.repeat(130)] }).catch((refusal: unknown) => refusal)) as Error;

    expect(unknownField.message).toContain(String.raw`unknown field "sequ\u200Bence" (did you mean "sequence"?)`);
    expect(badKey.message.startsWith(String.raw`variables["P1\u200B"]: `)).toBe(true);
    expect(longEmoji.message).toContain(`got "${'🚀'.repeat(100)}"… (130 characters)`);
  });

  it('refuses a pipeline the stage does not allow, naming it and the allowed ones', async () => {
    const attempt = decide({ order: ['P1', 'Prod-DB'] });

    await expect(attempt).rejects.toMatchObject({
      name: 'PipelineNotAllowed',
      message: 'order: Prod-DB is not allowed in this stage; allowed: P1, P2, P3, V1Pipe',
    });
    expect(codePipeline).not.toHaveReceivedAnyCommand();
  });

  it('refuses a pipeline CodePipeline does not know', async () => {
    codePipeline
      .on(GetPipelineCommand, { name: 'P2' })
      .rejects(new PipelineNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    await expect(decide({ order: ['P1', 'P2'] })).rejects.toMatchObject({
      name: 'PipelineNotFound',
      message: expect.stringContaining("pipeline 'P2' does not exist"),
    });
    expect(stepFunctions).not.toHaveReceivedAnyCommand();
  });

  it('refuses variables for a V1 pipeline, which cannot take them', async () => {
    await expect(decide({ order: ['V1Pipe'], variables: { V1Pipe: { A: '1' } } })).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining('V1 pipeline'),
    });
  });

  it('refuses a plan too large for the state machine', async () => {
    const order = ['P1', 'P2', 'P3', 'P4', 'P5'];
    useStageConfig({ pipelines: order });
    const variables = Object.fromEntries(
      order.map((name) => [name, Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`V${index}`, 'x'.repeat(1000)]))]),
    );

    await expect(decide({ order, variables })).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('bytes') });
  });

  it('reports a broken stage configuration as ConfigurationError', async () => {
    process.env.STAGE_CONFIG = '{"pipelines": []}';

    await expect(decide({})).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining('STAGE_CONFIG.pipelines') });
  });
});

describe('decide-order: groups and from', () => {
  it('keeps a group as one entry of the order, and counts entries', async () => {
    const { plan } = await decide({ order: ['P1', ['P2', 'P3'], 'V1Pipe'] });

    expect(plan).toMatchObject({ order: ['P1', ['P2', 'P3'], 'V1Pipe'], count: 3 });
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 4);
  });

  it('takes groups from a named sequence of the stage', async () => {
    useStageConfig({ sequences: { release: ['P1', 'P2', 'P3'], wide: [['P1', 'P2'], 'P3'] } });

    const { plan } = await decide({ sequence: 'wide' });

    expect(plan.order).toEqual([['P1', 'P2'], 'P3']);
  });

  it('refuses a group in a named sequence the same way, naming the sequence', async () => {
    useStageConfig({ sequences: { release: ['P1', 'P2', 'P3'], broken: [['P1'], 'P3'] } });

    await expect(decide({ sequence: 'broken' })).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining("sequence 'broken'[0]: a group") });
  });

  it('starts from the entry holding `from`, reporting earlier entries as Skipped', async () => {
    const { plan, run } = await decide({ order: [['P1', 'V1Pipe'], 'P2', 'P3'], from: 'P2' });

    expect(plan.from).toBe('P2');
    expect(run.index).toBe(1);
    expect(run.results).toEqual([
      { position: 0, member: 0, pipelineName: 'P1', status: 'Skipped' },
      { position: 0, member: 1, pipelineName: 'V1Pipe', status: 'Skipped' },
    ]);
  });

  it('runs a whole group when `from` names one of its members', async () => {
    const { run } = await decide({ order: ['P1', ['P2', 'P3']], from: 'P3' });

    expect(run.index).toBe(1);
  });
});

describe('decide-order: single flight', () => {
  const other = (startDate: string, name = 'run-0') => ({
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:${name}`,
    stateMachineArn,
    name,
    status: 'RUNNING' as const,
    startDate: new Date(startDate),
  });

  it('fails with AlreadyRunning when an older run is in flight', async () => {
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [other('2026-01-05T05:00:00Z')] });

    await expect(decide({})).rejects.toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining('run-0') });
    expect(stepFunctions).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn, statusFilter: 'RUNNING' });
  });

  it('goes on when the only other run started later (that one will stop itself)', async () => {
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [other('2026-01-05T06:00:01Z')] });

    await expect(decide({})).resolves.toHaveProperty('plan');
  });

  it('breaks a tie in start time by execution ARN, so exactly one of two goes on', async () => {
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [other(startTime, 'run-0')] });

    await expect(decide({})).rejects.toMatchObject({ name: 'AlreadyRunning' });
  });

  it('counts a running continuation of another train as older, whenever it started', async () => {
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [other('2026-01-05T07:00:00Z', 'nightly-g2')] });

    await expect(decide({})).rejects.toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining('nightly-g2') });
  });

  it('ends a scheduled start quietly when scheduleWhenBusy is skip, naming the run in flight', async () => {
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [other('2026-01-05T05:00:00Z', 'release-41')] });

    const decision = await decide({ sequence: 'release', scheduled: { whenBusy: 'skip', at: '2026-01-05T06:00:00Z' } });

    expect(decision.skipped?.reason).toMatch(/^the scheduled run for 2026-01-05T06:00:00Z was skipped \(scheduleWhenBusy: skip\): .*release-41 \(started 2026-01-05T05:00:00.000Z\).*nothing was started$/);
  });

  it('fails a scheduled start with AlreadyRunning when scheduleWhenBusy is fail', async () => {
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [other('2026-01-05T05:00:00Z', 'release-41')] });

    await expect(decide({ scheduled: { whenBusy: 'fail' } })).rejects.toMatchObject({ name: 'AlreadyRunning', message: expect.stringContaining('release-41') });
  });

  it('still fails a manual start with AlreadyRunning, and skips nothing when no run is in flight', async () => {
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [other('2026-01-05T05:00:00Z', 'release-41')] });
    await expect(decide({ sequence: 'release' })).rejects.toMatchObject({ name: 'AlreadyRunning' });

    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [] });
    const decision = await decide({ scheduled: { whenBusy: 'skip' } });

    expect(decision.skipped).toBeUndefined();
    expect(decision.plan.order).toEqual(['P1', 'P2', 'P3']);
  });

  it('refuses a scheduled marker with an unknown whenBusy, as any malformed input', async () => {
    await expect(decide({ scheduled: { whenBusy: 'wait' } })).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('scheduled.whenBusy') });
  });

  it('does not ask for a dry run, which starts nothing', async () => {
    const { plan } = await decide({ dryRun: true });

    expect(plan.dryRun).toBe(true);
    expect(stepFunctions).not.toHaveReceivedAnyCommand();
  });

  it('reports Step Functions throttling as AwsUnavailable, which the state machine retries', async () => {
    stepFunctions.on(ListExecutionsCommand).rejects(awsError('ThrottlingException', 400));

    await expect(decide({})).rejects.toMatchObject({ name: 'AwsUnavailable' });
  });
});

describe('decide-order: single flight with completion: events (the run lock)', () => {
  let dynamo: LocalDynamo;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    process.env.COMPLETION_TABLE_NAME = 'decide-order-lock';
    await dynamo.createTable(process.env.COMPLETION_TABLE_NAME);
  });

  afterAll(() => dynamo.close());

  beforeEach(() => useStageConfig({ completion: 'events' }));

  it('lets exactly one of two runs started 1 ms apart go on, though ListExecutions lists neither yet', async () => {
    // Prepare: the listing lags behind both starts, as an eventually consistent one may; both runs are RUNNING.
    stepFunctions.on(ListExecutionsCommand).resolves({ executions: [] });
    stepFunctions.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const started = (name: string, at: string) => ({
      input: {},
      execution: { id: `arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:${name}`, name, stateMachineArn, startTime: at },
      retryCount: 0,
      redriveCount: 0,
    });
    const outcome = (name: string, at: string) =>
      core(started(name, at)).then(
        () => 'went on',
        (error: Error) => `${error.name}: ${error.message}`,
      );

    // Act
    const [nightly, hotfix] = await Promise.all([outcome('nightly', '2026-01-05T06:00:00.000Z'), outcome('hotfix', '2026-01-05T06:00:00.001Z')]);

    // Assess: the one refused names the one that went on.
    const results = [nightly, hotfix];
    expect(results.filter((result) => result === 'went on')).toHaveLength(1);
    const winner = nightly === 'went on' ? 'nightly' : 'hotfix';
    expect(results.find((result) => result !== 'went on')).toMatch(new RegExp(`^AlreadyRunning: .*:${winner} holds the stage's run lock`));
  });
});

describe('decide-order: the event itself', () => {
  it('refuses an event without the execution context', async () => {
    await expect(core({ input: {} })).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('execution') });
  });
});
