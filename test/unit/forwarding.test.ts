import 'aws-sdk-client-mock-jest';
import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  StartPipelineExecutionCommand,
  type ActionExecutionDetail,
} from '@aws-sdk/client-codepipeline';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { core as decideCore } from '../../handlers/decide-order.js';
import { core as startCore } from '../../handlers/start-pipeline.js';
import { useClock } from '../../src/clock.js';
import { maxPlanBytes } from '../../src/decide.js';
import { resolvedBytesBound } from '../../src/references.js';
import { parseValue } from '../../src/variable-values.js';
import { pendingMember } from '../../src/start.js';
import { stepInputSchema, type PipelineResult } from '../../src/run.js';
import { keptSupersededIds } from '../../src/superseded.js';
import { execution, plan, stepInput, useStageConfig } from '../support/fixtures.js';
import { rejectionOf } from '../support/rejection.js';

const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const now = '2026-01-05T06:00:00.000Z';

/** What GetPipeline shows: P1 builds (SourceVariables, BuildVariables), P2 deploys (DeployVariables) and declares ENV. */
const declared: Record<string, { namespaces: string[]; variables?: string[] }> = {
  P1: { namespaces: ['SourceVariables', 'BuildVariables'] },
  P2: { namespaces: ['DeployVariables'], variables: ['ENV', 'IMAGE_TAG'] },
  P3: { namespaces: [], variables: ['IMAGE_TAG', 'ENDPOINT', 'RELEASE'] },
  'my.dotted.pipe': { namespaces: ['BuildVariables'] },
};

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  useStageConfig({ pipelines: ['P1', 'P2', 'P3', 'my.dotted.pipe'] });
  useClock({ now: () => Date.parse(now) });
  codePipeline.on(GetPipelineCommand).callsFake(({ name }: { name: string }) => ({
    pipeline: {
      name,
      pipelineType: 'V2',
      roleArn: 'r',
      stages: [{ name: 'Only', actions: declared[name]!.namespaces.map((namespace) => ({ name: namespace, actionTypeId: undefined, namespace })) }],
      // With defaults: decide-order asks an input for every variable declared without one.
      ...(declared[name]!.variables ? { variables: declared[name]!.variables.map((variable) => ({ name: variable, defaultValue: 'default' })) } : {}),
    },
  }));
  stepFunctions.on(ListExecutionsCommand).resolves({ executions: [] });
  stepFunctions.on(GetExecutionHistoryCommand).resolves({ events: [] });
  codePipeline.on(StartPipelineExecutionCommand).callsFake(({ name }: { name: string }) => ({ pipelineExecutionId: `exec-${name}` }));
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
});

const decide = (input: unknown) =>
  decideCore({ input, execution: { ...execution, stateMachineArn, startTime: now }, retryCount: 0, redriveCount: 0 });

describe('references: the syntax', () => {
  it('reads a reference from the right, so a pipeline name may contain dots', () => {
    expect(parseValue('#{my.dotted.pipe.BuildVariables.IMAGE_TAG}')).toEqual([
      { text: '#{my.dotted.pipe.BuildVariables.IMAGE_TAG}', pipeline: 'my.dotted.pipe', namespace: 'BuildVariables', variable: 'IMAGE_TAG' },
    ]);
  });

  it('mixes literal text and several references', () => {
    expect(parseValue('repo:#{P1.BuildVariables.IMAGE_TAG}@#{P1.SourceVariables.CommitId} }')).toEqual([
      'repo:',
      expect.objectContaining({ pipeline: 'P1', namespace: 'BuildVariables', variable: 'IMAGE_TAG' }),
      '@',
      expect.objectContaining({ pipeline: 'P1', namespace: 'SourceVariables', variable: 'CommitId' }),
      ' }',
    ]);
    expect(parseValue('plain # text {}')).toEqual(['plain # text {}']);
  });

  it.each([
    ['#{P1.BuildVariables.IMAGE_TAG', 'never closed'],
    ['#{BuildVariables.IMAGE_TAG}', 'is not a reference'],
    ['#{P1..IMAGE_TAG}', 'is not a reference'],
    ['#{P1.BuildVariables.}', 'is not a reference'],
    ['#{.BuildVariables.IMAGE_TAG}', 'is not a reference'],
    ['#{P1.Build.Variables.IMAGE TAG}', 'is not a reference'],
    ['#{}', 'is not a reference'],
  ])('refuses %s', (value, reason) => {
    expect(() => parseValue(value)).toThrow(reason);
  });
});

describe('references: checked by decide-order before anything starts', () => {
  it('accepts references to earlier pipelines, keeps them as written in the plan, and asks GetPipeline once per pipeline', async () => {
    const variables = {
      P2: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}', ENV: 'prod' },
      P3: { RELEASE: 'v-#{P1.SourceVariables.CommitId}-#{P2.variables.ENV}', ENDPOINT: '#{P2.DeployVariables.URL}' },
    };

    const { plan: decided } = await decide({ order: ['P1', 'P2', 'P3'], variables, dryRun: true });

    expect(decided.variables).toEqual(variables);
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 3);
  });

  it.each([
    ['a pipeline of the same group', { order: ['P1', ['P2', 'P3']], variables: { P3: { IMAGE_TAG: '#{P2.DeployVariables.URL}' } } }, "variables.P3.IMAGE_TAG: #{P2.DeployVariables.URL} refers to 'P2', which runs in the same entry as P3 (position 2), not before it"],
    ['a later pipeline', { order: ['P2', 'P1'], variables: { P2: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' } } }, "refers to 'P1' (position 2), which runs after P2 (position 1)"],
    ['itself', { order: ['P1', 'P2'], variables: { P2: { ENV: '#{P2.DeployVariables.URL}' } } }, "refers to 'P2', which runs in the same entry as P2"],
    ['a pipeline not in the order', { order: ['P1', 'P2'], variables: { P2: { ENV: '#{P3.variables.ENDPOINT}' } } }, "refers to 'P3', which is not in the order"],
    ['a pipeline that from skips', { order: ['P1', 'P2', 'P3'], from: 'P2', variables: { P3: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' } } }, "refers to 'P1', which from 'P2' skips"],
    ['malformed syntax', { order: ['P1', 'P2'], variables: { P2: { ENV: 'x #{P1.BuildVariables}' } } }, 'variables.P2.ENV: "#{P1.BuildVariables}" is not a reference'],
  ])('refuses a reference to %s, naming the field, before asking CodePipeline anything', async (_, input, cause) => {
    const error = await rejectionOf(decide(input));

    expect(error).toMatchObject({ name: 'InvalidInput', message: expect.stringContaining(cause) });
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 0);
    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
  });

  it("accepts, with from, a skipped pipeline's reference to a pipeline skipped too: its variables are never resolved", async () => {
    // The README's train across accounts, resumed from its third entry: the start redrive suggests past 14 days.
    const variables = { P2: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' }, P3: { RELEASE: 'v1' } };

    const { plan: decided } = await decide({ order: ['P1', 'P2', 'P3'], from: 'P3', variables, dryRun: true });

    expect(decided).toMatchObject({ from: 'P3', variables });
  });

  it('names every reference problem in one refusal, not only the first', async () => {
    const variables = {
      P2: { IMAGE_TAG: '#{P3.BuildVariables.IMAGE_TAG}', ENV: 'x #{P1.BuildVariables.ENV}' },
      P3: { ENDPOINT: '#{P4.variables.URL}' },
    };

    const error = await rejectionOf(decide({ order: ['P1', 'P2', 'P3'], variables }));

    expect(error.message).toBe(
      "2 problems: 1) variables.P2.IMAGE_TAG: #{P3.BuildVariables.IMAGE_TAG} refers to 'P3' (position 3), which runs after P2 (position 2); " +
        "2) variables.P3.ENDPOINT: #{P4.variables.URL} refers to 'P4', which is not in the order",
    );
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 0);
  });

  it('names a malformed reference with the input’s other problems, before the order is read', async () => {
    const error = await rejectionOf(decide({ order: ['P1', 'P2', 'P3'], from: 'P 2', variables: { P2: { ENV: 'x #{P1.BuildVariables}' } } }));

    expect(error.message).toBe(
      '2 problems: 1) variables.P2.ENV: "#{P1.BuildVariables}" is not a reference; a reference is #{<pipeline>.<namespace>.<variable>} or #{<pipeline>.variables.<name>}; ' +
        '2) from: must be 1 to 100 characters of A-Z a-z 0-9 . @ - _ (CodePipeline’s rule); got "P 2"',
    );
  });

  it('names every undeclared name in one refusal, after the one GetPipeline per pipeline', async () => {
    const error = await rejectionOf(decide({ order: ['P1', 'P2', 'P3'], variables: { P3: { ENDPOINT: '#{P1.DeployVariables.URL}', RELEASE: '#{P1.variables.ENV}' } } }));

    expect(error.message).toMatch(/^2 problems: 1\) variables\.P3\.ENDPOINT: .*'DeployVariables'.*; 2\) variables\.P3\.RELEASE: .*'ENV'/);
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 3);
  });

  it.each([
    ['#{P1.DeployVariables.URL}', "'P1' has no action with namespace 'DeployVariables' (its actions' namespaces are SourceVariables, BuildVariables)"],
    ['#{P1.variables.ENV}', "'P1' declares no pipeline-level variable 'ENV' (it declares none)"],
    ['#{P2.variables.REGION}', "'P2' declares no pipeline-level variable 'REGION' (it declares ENV, IMAGE_TAG)"],
  ])('refuses %s, a name the pipeline does not declare, from the same GetPipeline that checks it exists', async (reference, cause) => {
    const error = await rejectionOf(decide({ order: ['P1', 'P2', 'P3'], variables: { P3: { ENDPOINT: reference } } }));

    expect(error).toMatchObject({ name: 'InvalidInput', message: `variables.P3.ENDPOINT: ${reference}: ${cause}` });
    expect(codePipeline).toHaveReceivedCommandTimes(GetPipelineCommand, 3);
  });

  it('counts the largest values the references may resolve to in the state budget', async () => {
    const names = Array.from({ length: 40 }, (_, index) => `V${index}`);
    const manyReferences = Object.fromEntries(names.map((name) => [name, '#{P1.BuildVariables.IMAGE_TAG}']));
    const literal = Object.fromEntries(names.map((name) => [name, 'x'.repeat(30)]));
    codePipeline
      .on(GetPipelineCommand, { name: 'P2' })
      .resolves({ pipeline: { name: 'P2', roleArn: 'r', pipelineType: 'V2', stages: [], variables: names.map((name) => ({ name, defaultValue: 'd' })) } });

    const error = await rejectionOf(decide({ order: ['P1', 'P2'], variables: { P2: manyReferences } }));
    const accepted = await decide({ order: ['P1', 'P2'], variables: { P2: literal }, dryRun: true });

    expect(error).toMatchObject({ name: 'InvalidInput', message: expect.stringMatching(/the values it forwards up to \d+ more; at most 204800 fit/) });
    expect(accepted.plan.variables.P2).toEqual(literal);
    // The bound: 1,000 characters of at most 6 JSON bytes each, per variable holding a reference, in the largest entry.
    expect(resolvedBytesBound(plan({ order: ['P1', 'P2'], variables: { P2: { A: '#{P1.B.C}', D: '#{P1.B.C}' } } }))).toBe(
      2 * (6004 + '"A"'.length) + ',"variables":{}'.length,
    );
    expect(resolvedBytesBound(plan({ order: ['P1', 'P2'], variables: { P2: literal } }))).toBe(0);
    expect(maxPlanBytes).toBe(200 * 1024);
  });
});

const succeeded = (pipelineName: string, position: number, pipelineExecutionId: string): PipelineResult => ({
  position,
  member: 0,
  pipelineName,
  status: 'Succeeded',
  pipelineExecutionId,
  attempt: 0,
  startedAt: '2026-01-05T05:00:00.000Z',
  finishedAt: '2026-01-05T05:30:00.000Z',
  detectedAt: '2026-01-05T05:30:10.000Z',
  polls: 3,
  supersededExecutionIds: [],
});

const action = (actionName: string, namespace: string, outputVariables: Record<string, string>, extra: Partial<ActionExecutionDetail> = {}): ActionExecutionDetail => ({
  actionName,
  status: 'Succeeded',
  lastUpdateTime: new Date('2026-01-05T05:20:00Z'),
  input: { namespace },
  output: { outputVariables },
  ...extra,
});

describe('references: resolved by start-pipeline from the execution the run watched', () => {
  const order = ['P1', 'P2', 'P3'];
  const results = [succeeded('P1', 0, 'exec-followed-p1'), succeeded('P2', 1, 'exec-p2')];
  const startP3 = (variables: Record<string, Record<string, string>>, extraRun = {}) =>
    startCore(stepInput({ index: 2, phase: 'start', members: [], results, ...extraRun }, { order, count: 3, variables }));

  it('reads action outputs and pipeline-level variables of the succeeded executions, and starts with literal text around them', async () => {
    codePipeline
      .on(ListActionExecutionsCommand, { pipelineName: 'P1' })
      .resolves({
        actionExecutionDetails: [
          action('Build', 'BuildVariables', { IMAGE_TAG: 'old' }, { lastUpdateTime: new Date('2026-01-05T05:10:00Z') }),
          action('Build', 'BuildVariables', { IMAGE_TAG: '1.4.2' }),
          action('Source', 'SourceVariables', { CommitId: '9f1c2e7' }),
        ],
      });
    codePipeline.on(GetPipelineExecutionCommand, { pipelineName: 'P2' }).resolves({
      pipelineExecution: { pipelineExecutionId: 'exec-p2', status: 'Succeeded', variables: [{ name: 'ENV', resolvedValue: 'prod' }] },
    });

    const run = await startP3({
      P3: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}', RELEASE: 'v#{P1.BuildVariables.IMAGE_TAG}-#{P1.SourceVariables.CommitId}-#{P2.variables.ENV}', ENDPOINT: 'https://example.com' },
    });

    // One listing per producer execution, filtered by the execution the run followed.
    expect(codePipeline).toHaveReceivedCommandTimes(ListActionExecutionsCommand, 1);
    expect(codePipeline).toHaveReceivedCommandWith(ListActionExecutionsCommand, { pipelineName: 'P1', filter: { pipelineExecutionId: 'exec-followed-p1' } });
    expect(codePipeline).toHaveReceivedCommandWith(GetPipelineExecutionCommand, { pipelineName: 'P2', pipelineExecutionId: 'exec-p2' });
    expect(codePipeline).toHaveReceivedCommandWith(StartPipelineExecutionCommand, {
      name: 'P3',
      variables: [
        { name: 'IMAGE_TAG', value: '1.4.2' },
        { name: 'RELEASE', value: 'v1.4.2-9f1c2e7-prod' },
        { name: 'ENDPOINT', value: 'https://example.com' },
      ],
    });
    // Only the forwarded values are kept, on the member that needs them.
    expect(run.members[0]!.variables).toEqual({ IMAGE_TAG: '1.4.2', RELEASE: 'v1.4.2-9f1c2e7-prod' });
  });

  it('follows nextToken through the action executions', async () => {
    codePipeline
      .on(ListActionExecutionsCommand, { nextToken: undefined })
      .resolves({ actionExecutionDetails: [action('Source', 'SourceVariables', { CommitId: 'abc' })], nextToken: 'page-2' })
      .on(ListActionExecutionsCommand, { nextToken: 'page-2' })
      .resolves({ actionExecutionDetails: [action('Build', 'BuildVariables', { IMAGE_TAG: '2.0.0' })] });

    const run = await startP3({ P3: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' } });

    expect(run.members[0]!.variables).toEqual({ IMAGE_TAG: '2.0.0' });
  });

  it.each([
    ['a variable the action did not publish', [action('Build', 'BuildVariables', { OTHER: 'x' })], 'action Build published OTHER'],
    ['an action that did not succeed', [action('Build', 'BuildVariables', {}, { status: 'Failed' })], 'no action with namespace BuildVariables succeeded in it'],
  ])('fails with OutputNotFound for %s, naming pipeline, execution, namespace and variable, and starts nothing', async (_, details, published) => {
    codePipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: details });

    const error = await rejectionOf(startP3({ P3: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' } }));

    expect(error).toMatchObject({
      name: 'OutputNotFound',
      message: `variables.P3.IMAGE_TAG refers to #{P1.BuildVariables.IMAGE_TAG}: P1 execution exec-followed-p1 has no variable IMAGE_TAG in namespace BuildVariables (${published}). P3 (position 3 of 3) was not started, nor anything after it`,
    });
    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
  });

  it('fails with OutputNotFound for a pipeline-level variable the execution did not resolve', async () => {
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded', variables: [] } });

    const error = await rejectionOf(startP3({ P3: { RELEASE: '#{P2.variables.ENV}' } }));

    expect(error).toMatchObject({ name: 'OutputNotFound', message: expect.stringContaining('P2 execution exec-p2 has no variable ENV in namespace variables (its pipeline-level variables are none)') });
  });

  it('refuses a value CodePipeline would not take (over 1,000 characters) before starting', async () => {
    codePipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('Build', 'BuildVariables', { IMAGE_TAG: 'x'.repeat(600) })] });

    const error = await rejectionOf(startP3({ P3: { RELEASE: '#{P1.BuildVariables.IMAGE_TAG}#{P1.BuildVariables.IMAGE_TAG}' } }));

    expect(error).toMatchObject({ name: 'OutputNotFound', message: expect.stringContaining('variables.P3.RELEASE resolves to 1200 characters') });
    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
  });

  it('refuses a forwarded value over two lines, which CodePipeline would not take, before starting', async () => {
    codePipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('Build', 'BuildVariables', { IMAGE_TAG: '1.4.2\nextra' })] });

    const error = await rejectionOf(startP3({ P3: { RELEASE: 'v#{P1.BuildVariables.IMAGE_TAG}' } }));

    expect(error).toMatchObject({
      name: 'OutputNotFound',
      message: expect.stringContaining('variables.P3.RELEASE resolves, from #{P1.BuildVariables.IMAGE_TAG}, to a value that must be one line: character 7 is a line break (U+000A)'),
    });
    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
  });

  it('starts no member of a group when one member’s value is missing', async () => {
    codePipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('Build', 'BuildVariables', { IMAGE_TAG: '1.4.2' })] });

    const error = await rejectionOf(
      startCore(
        stepInput(
          { index: 1, phase: 'start', members: [], results: [succeeded('P1', 0, 'exec-p1')] },
          { order: ['P1', ['P2', 'P3']], count: 2, variables: { P2: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' }, P3: { IMAGE_TAG: '#{P1.BuildVariables.MISSING}' } } },
        ),
      ),
    );

    expect(error).toMatchObject({ name: 'OutputNotFound', message: expect.stringMatching(/P3 \(position 2 of 2, in a group of 2\) was not started, nor any member of its group, nor anything after it$/) });
    expect(codePipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
  });

  it('resolves the same values again for a member restarted after a redrive', async () => {
    codePipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('Build', 'BuildVariables', { IMAGE_TAG: '1.4.2' })] });
    const variables = { P3: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' } };

    const first = await startP3(variables);
    const again = await startCore(
      stepInput(
        { index: 2, phase: 'start', members: [pendingMember(2, 0, 'P3', 1)], results },
        { order, count: 3, variables },
        { redriveCount: 1 },
      ),
    );

    expect(again.members[0]!.variables).toEqual(first.members[0]!.variables);
    const sent = codePipeline.commandCalls(StartPipelineExecutionCommand).map((call) => call.args[0].input.variables);
    expect(sent).toEqual([[{ name: 'IMAGE_TAG', value: '1.4.2' }], [{ name: 'IMAGE_TAG', value: '1.4.2' }]]);
  });
});

describe('references: the state stays inside Step Functions’ 256 KiB at the largest input accepted', () => {
  it('holds the largest plan decide-order accepts, a full group carrying the largest values it may resolve, and every other result', async () => {
    // 100 pipelines of 100 characters; the last entry a group of 10, each forwarding from the first.
    const names = Array.from({ length: 100 }, (_, index) => String(index).padStart(3, '0').padEnd(100, 'p'));
    const order = [...names.slice(0, 90), names.slice(90)];
    const namespace = 'N'.repeat(100);
    const reference = `#{${names[0]}.${namespace}.${'V'.repeat(128)}}`;
    useStageConfig({ pipelines: names });
    const variableName = (index: number) => `${String(index).padStart(2, '0')}`.padEnd(128, 'v');
    const variables = Array.from({ length: 50 }, (_, index) => ({ name: variableName(index), defaultValue: 'd' }));
    codePipeline.on(GetPipelineCommand).resolves({ pipeline: { name: 'any', roleArn: 'r', pipelineType: 'V2', stages: [{ name: 'S', actions: [{ name: 'A', actionTypeId: undefined, namespace }] }], variables } });
    const inputWith = (count: number) => ({
      order,
      dryRun: true,
      variables: Object.fromEntries(
        names.slice(90).map((name, member) => [
          name,
          Object.fromEntries(Array.from({ length: Math.ceil(Math.max(0, count - member) / 10) }, (_, index) => [variableName(index), reference])),
        ]).filter(([, values]) => Object.keys(values as object).length > 0),
      ),
    });
    let accepted = 0;
    while ((await decide(inputWith(accepted + 1)).then(() => true, () => false)) && accepted < 500) accepted += 1;
    const { plan: decided } = await decide(inputWith(accepted));

    const uuid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const time = '2026-01-05T06:00:00.000Z';
    // Each pipeline superseded all along: the ids the state keeps (src/superseded.ts), and the count of the others.
    const superseded = { supersededExecutionIds: Array.from({ length: keptSupersededIds }, () => uuid), supersededOmitted: 99_999 };
    const results = names.slice(0, 90).map((pipelineName, position) => ({ ...succeeded(pipelineName, position, uuid), startedAt: time, finishedAt: time, detectedAt: time, polls: 99_999, attempt: 99, ...superseded }));
    const members = names.slice(90).map((pipelineName, member) => ({
      ...pendingMember(90, member, pipelineName, 99),
      status: 'InProgress',
      pipelineExecutionId: uuid,
      startedAt: time,
      deadline: time,
      watchedSince: time,
      nextLookAt: time,
      polls: 99_999,
      expected: { fastestSeconds: 123_456.789, slowestSeconds: 123_456.789, samples: 20 },
      ...superseded,
      earlierExecutionIds: [uuid, uuid],
      // The worst a forwarded value can cost in JSON: 1,000 characters escaped as \u0001.
      ...(Object.hasOwn(decided.variables, pipelineName)
        ? { variables: Object.fromEntries(Object.keys(decided.variables[pipelineName]!).map((name) => [name, '\u0001'.repeat(1000)])) }
        : {}),
    }));
    const state = { plan: decided, run: { ...stepInput().run, index: 90, results, members }, execution, retryCount: 0, redriveCount: 0 };
    const stateBytes = Buffer.byteLength(JSON.stringify(state));

    expect(accepted).toBeGreaterThan(20);
    expect(Object.values(decided.variables).flatMap(Object.keys)).toHaveLength(accepted);
    expect(stateBytes).toBeLessThanOrEqual(256 * 1024);
    // The state the handlers accept is this one: every field above is in the schema.
    expect(stepInputSchema.safeParse(state).success).toBe(true);
  });
});
