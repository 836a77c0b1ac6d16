import 'aws-sdk-client-mock-jest';
import { CodePipelineClient, GetPipelineCommand, type PipelineVariableDeclaration } from '@aws-sdk/client-codepipeline';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/decide-order.js';
import { useClock } from '../../src/clock.js';
import { awsError, execution, useStageConfig } from '../support/fixtures.js';

const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const startTime = '2026-01-05T06:00:00.000Z';

/** What each pipeline declares: P1 nothing, P2 an optional ENV, P3 a required RELEASE and an optional ENV. */
const declarations: Record<string, PipelineVariableDeclaration[]> = {
  P1: [],
  P2: [{ name: 'ENV', defaultValue: 'staging' }],
  P3: [{ name: 'RELEASE' }, { name: 'ENV', defaultValue: 'prod' }],
};

const decide = (input: unknown, context?: { getRemainingTimeInMillis: () => number }) =>
  core({ input, execution: { ...execution, stateMachineArn, startTime }, retryCount: 0, redriveCount: 0 }, context);

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  useStageConfig();
  declarations.P1 = [];
  useClock({ now: () => Date.parse(startTime) });
  codePipeline.on(GetPipelineCommand).callsFake(({ name }: { name: string }) => ({
    pipeline: {
      name,
      pipelineType: name === 'V1Pipe' ? 'V1' : 'V2',
      roleArn: 'r',
      stages: [],
      ...(declarations[name] ? { variables: declarations[name] } : {}),
    },
  }));
  stepFunctions.on(ListExecutionsCommand).resolves({ executions: [] });
});

describe('decide-order: every variable rule StartPipelineExecution applies, before anything starts', () => {
  it.each([
    [
      'an undeclared variable on the last pipeline',
      { order: ['P1', 'P2', 'P3'], variables: { P3: { RELEASE: '1.0', X: 'y' } } },
      "variables.P3.X: pipeline 'P3' declares no variable 'X' (it declares RELEASE, ENV); nothing was started",
    ],
    [
      'a variable on a pipeline that declares none',
      { order: ['P1'], variables: { P1: { ENV: 'prod' } } },
      "variables.P1.ENV: pipeline 'P1' declares no variable 'ENV' (it declares none)",
    ],
    [
      'a required variable left out',
      { order: ['P1', 'P2', 'P3'], variables: { P3: { ENV: 'dev' } } },
      'variables.P3.RELEASE: pipeline \'P3\' declares \'RELEASE\' without a default value, so the input must give it, as in {"variables":{"P3":{"RELEASE":"..."}}}; nothing was started',
    ],
    [
      'a required variable of a named sequence, which carries no variables',
      { sequence: 'release' },
      "variables.P3.RELEASE: pipeline 'P3' declares 'RELEASE' without a default value",
    ],
    [
      'a value over two lines',
      { order: ['P3'], variables: { P3: { RELEASE: '1.0\nrm -rf' } } },
      'variables.P3.RELEASE: must be one line: character 4 is a line break (U+000A), which CodePipeline refuses',
    ],
    [
      'a value with a Unicode line separator',
      { order: ['P3'], variables: { P3: { RELEASE: '1.0', ENV: 'a\u2028b' } } },
      'variables.P3.ENV: must be one line: character 2 is a line break (U+2028)',
    ],
    ['variables on a V1 pipeline', { order: ['V1Pipe'], variables: { V1Pipe: { A: '1' } } }, "variables.V1Pipe: 'V1Pipe' is a V1 pipeline"],
  ])('refuses %s as InvalidInput naming the pipeline and the variable', async (_case, input, message) => {
    // Act
    const attempt = decide(input);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining(message) });
    expect(stepFunctions).not.toHaveReceivedAnyCommand();
  });

  it('names every problem of every pipeline in one refusal, variables and references alike', async () => {
    // Prepare: one problem of each kind GetPipeline tells, spread over four pipelines; P1's actions have no namespace.
    const input = {
      order: ['V1Pipe', 'P1', 'P2', 'P3'],
      variables: { V1Pipe: { A: '1' }, P2: { X: 'y' }, P3: { ENV: '#{P1.Nope.X}' } },
    };

    // Act
    const attempt = decide(input);

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidInput',
      message:
        "4 problems: 1) variables.V1Pipe: 'V1Pipe' is a V1 pipeline; pipeline-level variables need a V2 pipeline; " +
        "2) variables.P2.X: pipeline 'P2' declares no variable 'X' (it declares ENV); " +
        '3) variables.P3.RELEASE: pipeline \'P3\' declares \'RELEASE\' without a default value, so the input must give it, as in {"variables":{"P3":{"RELEASE":"..."}}}; ' +
        "4) variables.P3.ENV: #{P1.Nope.X}: 'P1' has no action with namespace 'Nope' (none of its actions has a namespace)",
    });
    expect(stepFunctions).not.toHaveReceivedAnyCommand();
  });

  it('refuses a value too long for that alone, quoting none of it, beside the input’s other problems; a malformed reference is quoted escaped and cut', async () => {
    const tooLong = (await decide({ order: ['P1', 'P2'], variables: { P2: { A: `#{${'x'.repeat(200_000)}` } }, onFailure: 'bogus' }).catch((refusal: unknown) => refusal)) as Error;
    const unseen = (await decide({ order: ['P1', 'P2'], variables: { P2: { A: '#{P1.N\u200b.x}' } } }).catch((refusal: unknown) => refusal)) as Error;

    expect(tooLong.message).toBe("2 problems: 1) variables.P2.A: must be at most 1000 characters; 2) onFailure: must be 'fail' or 'wait'");
    expect(unseen.message).toContain(String.raw`variables.P2.A: "#{P1.N\u200B.x}" is not a reference`);
  });

  it('names every problem a value has on its own at once, before asking CodePipeline anything: empty, on two lines, a reference never closed', async () => {
    const input = { order: ['P1', 'P2', 'P3'], variables: { P2: { IMAGE_TAG: 'a\nb', ENV: '' }, P3: { ENDPOINT: '#{P2.DeployVariables.ENDPOINT' } } };

    const attempt = decide(input);

    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidInput',
      message:
        '3 problems: 1) variables.P2.IMAGE_TAG: must be one line: character 2 is a line break (U+000A), which CodePipeline refuses; ' +
        '2) variables.P2.ENV: must not be empty; ' +
        '3) variables.P3.ENDPOINT: "#{P2.DeployVariables.ENDPOINT" opens a reference that is never closed; a reference is #{<pipeline>.<namespace>.<variable>} or #{<pipeline>.variables.<name>}',
    });
    expect(codePipeline).not.toHaveReceivedAnyCommand();
  });

  it('names at most 10 problems, then how many more, as every other input check does', async () => {
    // Prepare: twelve variables P3 does not declare.
    const undeclared = Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`X${index + 1}`, 'y']));

    // Act
    const attempt = decide({ order: ['P3'], variables: { P3: { RELEASE: '1.0', ...undeclared } } });

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringMatching(/^12 problems: 1\) variables\.P3\.X1: .*; 10\) variables\.P3\.X10: pipeline 'P3' declares no variable 'X10' \(it declares RELEASE, ENV\); and 2 more$/),
    });
  });

  it('gives a dry run the same refusal', async () => {
    // Act
    const attempt = decide({ order: ['P1', 'P2', 'P3'], variables: { P3: { RELEASE: '1.0', X: 'y' } }, dryRun: true });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining("variables.P3.X: pipeline 'P3' declares no variable 'X'") });
  });

  it('accepts declared variables, required ones given, defaults left to CodePipeline', async () => {
    // Act
    const { plan } = await decide({ order: ['P1', 'P2', 'P3'], variables: { P3: { RELEASE: '1.0' } } });

    // Assess
    expect(plan.variables).toEqual({ P3: { RELEASE: '1.0' } });
  });

  it('counts a value forwarded from an earlier pipeline as given', async () => {
    // Prepare
    declarations.P1 = [{ name: 'TAG', defaultValue: 'x' }];

    // Act
    const { plan } = await decide({ order: ['P1', 'P3'], variables: { P3: { RELEASE: '#{P1.variables.TAG}' } } });

    // Assess
    expect(plan.variables.P3).toEqual({ RELEASE: '#{P1.variables.TAG}' });
  });

  it('does not ask for the required variables of a pipeline `from` skips, which never starts', async () => {
    // Act
    const { run } = await decide({ order: ['P3', 'P1'], from: 'P1' });

    // Assess
    expect(run.results).toEqual([{ position: 0, member: 0, pipelineName: 'P3', status: 'Skipped' }]);
  });
});

describe('decide-order: many pipelines, slow or throttled CodePipeline', () => {
  it('asks about at most 10 pipelines at once', async () => {
    // Prepare
    const order = Array.from({ length: 100 }, (_, index) => `Pipe${index}`);
    useStageConfig({ pipelines: order });
    let inFlight = 0;
    let mostInFlight = 0;
    codePipeline.on(GetPipelineCommand).callsFake(async ({ name }: { name: string }) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return { pipeline: { name, pipelineType: 'V2', roleArn: 'r', stages: [] } };
    });

    // Act
    const { plan } = await decide({ order, dryRun: true });

    // Assess
    expect(plan.count).toBe(100);
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 100);
    expect(mostInFlight).toBe(10);
  });

  it('retries a throttled GetPipeline, then fails by name, AwsUnavailable, naming the call', async () => {
    // Prepare
    codePipeline.on(GetPipelineCommand, { name: 'P2' }).rejects(awsError('ThrottlingException', 400));

    // Act
    const attempt = decide({ order: ['P1', 'P2'] });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'AwsUnavailable', message: expect.stringContaining('GetPipeline P2: ThrottlingException') });
    expect(codePipeline.commandCalls(GetPipelineCommand, { name: 'P2' })).toHaveLength(4);
    expect(stepFunctions).not.toHaveReceivedAnyCommand();
  });

  it('gives up by name, AwsUnavailable, before the function’s timeout when CodePipeline does not answer', async () => {
    // Prepare
    codePipeline.on(GetPipelineCommand, { name: 'P2' }).callsFake(() => new Promise(() => {}));

    // Act
    const attempt = decide({ order: ['P1', 'P2'] }, { getRemainingTimeInMillis: () => 2_100 });

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'AwsUnavailable',
      message: expect.stringContaining('decide-order got no answer from AWS'),
    });
    expect(stepFunctions).not.toHaveReceivedAnyCommand();
  });
});
