import { readFileSync } from 'node:fs';
import { CodePipelineClient, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { closeLocalEngine, LocalEngine, type RunEvent } from '../../local/engine.js';
import { loadWorld, type World } from '../../local/world.js';
import { warmSequencer } from './binary.js';
import { expectSequential, ours, runOnce, world } from './support.js';

afterAll(closeLocalEngine);

/** P1 builds (its Source publishes a commit, its Build an image tag); P2 deploys and publishes an endpoint; P3 releases. */
const producer = (extra: Record<string, unknown> = {}) => ({
  name: 'P1',
  stages: [
    { name: 'Source', durationSeconds: 30, actions: [{ name: 'Source', namespace: 'SourceVariables' }] },
    { name: 'Build', durationSeconds: 570, actions: [{ name: 'Build', namespace: 'BuildVariables', outputVariables: { IMAGE_TAG: '1.4.2' } }] },
  ],
  ...extra,
});
const consumer = (name: string, variables: string[], extra: Record<string, unknown> = {}) => ({
  name,
  variables: variables.map((variable) => ({ name: variable })),
  stages: [
    { name: 'Source', durationSeconds: 30, actions: [{ name: 'Source' }] },
    { name: 'Deploy', durationSeconds: 270, actions: [{ name: 'Deploy', namespace: `${name}Outputs`, outputVariables: { ENDPOINT: `https://${name}.example.com` } }] },
  ],
  ...extra,
});

/** A run, with the executions each Task started, by the execution of the train that started them. */
async function runTrain(theWorld: World, input: unknown, options: { redrive?: boolean; settings?: object } = {}) {
  const engine = await LocalEngine.create({ world: theWorld, ...(options.settings ? { settings: options.settings } : {}) });
  const startedBy = new Map<string, string>();
  const report = await engine.run({
    input,
    ...(options.redrive ? { redrive: true } : {}),
    onEvent: (event: RunEvent) => {
      if (event.type !== 'started') return;
      for (const member of (event.output as { members: { pipelineExecutionId?: string }[] }).members) {
        if (member.pipelineExecutionId && !startedBy.has(member.pipelineExecutionId)) startedBy.set(member.pipelineExecutionId, event.executionName);
      }
    },
  });
  return { report, engine, startedBy };
}

const variablesOf = (report: Awaited<ReturnType<typeof runOnce>>) => ours(report).map((execution) => [execution.pipelineName, execution.variables]);

describe('forwarding outputs from one pipeline to a later one', () => {
  it('two hops through the shipped world: P1 → P2 → P3, literal text mixed with several references', async () => {
    const input = {
      variables: {
        P2: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' },
        P3: {
          RELEASE: 'v#{P1.BuildVariables.IMAGE_TAG}+#{P1.SourceVariables.CommitId}',
          ENDPOINT: '#{P2.DeployVariables.ENDPOINT}',
          ENV: '#{P2.variables.ENV}',
        },
      },
    };

    const report = await runOnce(await loadWorld('local/worlds/forwarding.json'), input);

    expect(report.status).toBe('SUCCEEDED');
    expectSequential(report, ['P1', 'P2', 'P3']);
    expect(variablesOf(report)).toEqual([
      ['P1', {}],
      ['P2', { IMAGE_TAG: '1.4.2' }],
      // ENV is P2's declared default: the value its execution resolved, not one we gave.
      ['P3', { RELEASE: 'v1.4.2+9f1c2e7', ENDPOINT: 'https://api.example.com', ENV: 'staging' }],
    ]);
  });

  it.each([
    ['the same group', { order: ['P1', ['P2', 'P3']], variables: { P3: { TAG: '#{P2.P2Outputs.ENDPOINT}' } } }, 'runs in the same entry as P3'],
    ['a later pipeline', { order: ['P2', 'P1'], variables: { P2: { TAG: '#{P1.BuildVariables.IMAGE_TAG}' } } }, 'which runs after P2'],
    ['a namespace the pipeline does not declare', { order: ['P1', 'P2'], variables: { P2: { TAG: '#{P1.TestVariables.IMAGE_TAG}' } } }, "'P1' has no action with namespace 'TestVariables'"],
  ])('refuses a reference to %s before anything starts', async (_, input, cause) => {
    const theWorld = world([producer(), consumer('P2', ['TAG']), consumer('P3', ['TAG'])]);

    const report = await runOnce(theWorld, input);

    expect(report).toMatchObject({ status: 'FAILED', error: 'InvalidInput', cause: expect.stringContaining(cause) });
    expect(ours(report)).toEqual([]);
  });

  it('names every variable and reference problem of the shipped world in one refusal, not one a run', async () => {
    // Act: P2's IMAGE_TAG and P3's ENDPOINT left out, P3's RELEASE read from a namespace P1 lacks.
    const report = await runOnce(await loadWorld('local/worlds/forwarding.json'), { variables: { P3: { RELEASE: '#{P1.Nope.X}' } } });

    // Assess
    expect(report).toMatchObject({
      status: 'FAILED',
      error: 'InvalidInput',
      cause:
        '3 problems: 1) variables.P2.IMAGE_TAG: pipeline \'P2\' declares \'IMAGE_TAG\' without a default value, so the input must give it, as in {"variables":{"P2":{"IMAGE_TAG":"..."}}}; ' +
        '2) variables.P3.ENDPOINT: pipeline \'P3\' declares \'ENDPOINT\' without a default value, so the input must give it, as in {"variables":{"P3":{"ENDPOINT":"..."}}}; ' +
        "3) variables.P3.RELEASE: #{P1.Nope.X}: 'P1' has no action with namespace 'Nope' (its actions' namespaces are SourceVariables, BuildVariables)",
    });
    expect(ours(report)).toEqual([]);
  });

  it('fails with OutputNotFound when the output is not there, and starts nothing after the producer', async () => {
    const theWorld = world([producer(), consumer('P2', ['TAG']), consumer('P3', [])]);

    const report = await runOnce(theWorld, { order: ['P1', 'P2', 'P3'], variables: { P2: { TAG: '#{P1.BuildVariables.DIGEST}' } } });

    const [p1] = ours(report);
    expect(report).toMatchObject({
      status: 'FAILED',
      error: 'OutputNotFound',
      cause: `variables.P2.TAG refers to #{P1.BuildVariables.DIGEST}: P1 execution ${p1!.pipelineExecutionId} has no variable DIGEST in namespace BuildVariables (action Build published IMAGE_TAG). P2 (position 2 of 3) was not started, nor anything after it`,
    });
    expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1']);
  });

  it('takes the value a retried action published, when the producer failed and someone retried its stage (onFailure: wait)', async () => {
    // Prepare: P1's Build fails at 10 min and is retried in CodePipeline 10 min later; the retry succeeds.
    const theWorld = world([producer({ outcome: 'Failed', retry: { afterSeconds: 600, durationSeconds: 120 } }), consumer('P2', ['IMAGE_TAG'])]);

    // Act
    const report = await runOnce(theWorld, { order: ['P1', 'P2'], onFailure: 'wait', variables: { P2: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' } } });

    // Assess
    expect({ status: report.status, error: report.error, cause: report.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    expect(variablesOf(report)).toEqual([
      ['P1', {}],
      ['P2', { IMAGE_TAG: '1.4.2' }],
    ]);
  });

  it('takes the value from the execution it followed when the producer was superseded, not from ours', async () => {
    const theWorld = world([
      producer({ outcome: 'Superseded', supersededBy: { durationSeconds: 300 } }),
      consumer('P2', ['COMMIT']),
    ]);

    const { report, engine } = await runTrain(theWorld, { order: ['P1', 'P2'], variables: { P2: { COMMIT: '#{P1.SourceVariables.CommitId}' } } });

    expect(report.status).toBe('SUCCEEDED');
    const [result] = (report.output as { pipelines: { pipelineExecutionId: string; supersededExecutionIds: string[] }[] }).pipelines;
    const [superseded] = result!.supersededExecutionIds;
    const commitOf = async (pipelineExecutionId: string) => {
      const client = new CodePipelineClient({ endpoint: engine.emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      const { actionExecutionDetails } = await client.send(new ListActionExecutionsCommand({ pipelineName: 'P1', filter: { pipelineExecutionId } }));
      return actionExecutionDetails!.find((detail) => detail.actionName === 'Source')!.output!.outputVariables!.CommitId!;
    };
    const followed = await commitOf(result!.pipelineExecutionId);
    expect(superseded).toBe(ours(report)[0]!.pipelineExecutionId);
    expect(followed).not.toBe(await commitOf(superseded!));
    expect(ours(report).find((execution) => execution.pipelineName === 'P2')!.variables).toEqual({ COMMIT: followed });
  });

  it('a redriven run resolves the same values again for the pipeline it restarts', async () => {
    const theWorld = world([producer(), consumer('P2', ['TAG'], { outcomes: ['Failed', 'Succeeded'] }), consumer('P3', ['URL'])]);

    const { report } = await runTrain(
      theWorld,
      { order: ['P1', 'P2', 'P3'], variables: { P2: { TAG: 'img:#{P1.BuildVariables.IMAGE_TAG}' }, P3: { URL: '#{P2.P2Outputs.ENDPOINT}' } } },
      { redrive: true },
    );

    expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status, execution.variables])).toEqual([
      ['P1', 'Succeeded', {}],
      ['P2', 'Failed', { TAG: 'img:1.4.2' }],
      ['P2', 'Succeeded', { TAG: 'img:1.4.2' }],
      ['P3', 'Succeeded', { URL: 'https://P2.example.com' }],
    ]);
  });

  it('a continued run resolves the values in its new execution from the results its predecessor handed over', async () => {
    // A 4-hour producer at a fixed 30-second poll passes a 1,000-event handover.
    const theWorld = world([
      producer({ stages: [producer().stages[0], { ...producer().stages[1], durationSeconds: 4 * 3600 }] }),
      consumer('P2', ['TAG']),
    ]);

    const { report, startedBy } = await runTrain(
      theWorld,
      { order: ['P1', 'P2'], variables: { P2: { TAG: '#{P1.BuildVariables.IMAGE_TAG}' } } },
      { settings: { pollSeconds: 30, maxPollSeconds: 30, completion: 'poll', continueAtEvents: 1_000 } },
    );

    expect(report.status).toBe('SUCCEEDED');
    expect(report.generations.length).toBeGreaterThan(1);
    const [p1, p2] = ours(report);
    expect(startedBy.get(p1!.pipelineExecutionId)).toBe(report.executionName);
    expect(startedBy.get(p2!.pipelineExecutionId)).not.toBe(report.executionName);
    expect(p2!.variables).toEqual({ TAG: '1.4.2' });
  });
});


describe('sequencer run --json', () => {
  const variables = { P2: { IMAGE_TAG: 'img-#{P1.BuildVariables.IMAGE_TAG}', ENV: 'prod' } };

  it('reports the variables each execution was started with in world.executions[]', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', 'local/worlds/forwarding.json', '--input', JSON.stringify({ order: ['P1', 'P2'], variables }), '--json']);

    expect(code).toBe(0);
    const executions = JSON.parse(stdout).world.executions as { pipelineName: string; variables: Record<string, string> }[];
    expect(executions.map((execution) => [execution.pipelineName, execution.variables])).toEqual([
      ['P1', {}],
      ['P2', { IMAGE_TAG: 'img-1.4.2', ENV: 'prod' }],
    ]);
  });

  it('shows a dry run the references as written', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', 'local/worlds/forwarding.json', '--input', JSON.stringify({ order: ['P1', 'P2'], variables, dryRun: true }), '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'SUCCEEDED', output: { variables }, world: { executions: [] } });
  });
});

describe('README: passing outputs between pipelines', () => {
  it('runs the command it shows against the shipped world and prints the lines it shows', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Passing outputs between pipelines'));
    const [, command, sample] = /```sh\n(npx --no sequencer run --world local\/worlds\/forwarding\.json --input '.*')\n```\n\n```text\n([\s\S]*?)```/.exec(section)!;
    const input = /--input '(.*)'$/.exec(command!)![1]!;

    const { code, stdout } = await warmSequencer(['run', '--world', 'local/worlds/forwarding.json', '--input', input]);

    expect(code).toBe(0);
    const printed = stdout.split('\n');
    const shown = sample!.split('\n').filter((line) => line.trim() !== '' && line.trim() !== '...');
    expect(shown.length).toBeGreaterThan(5);
    for (const line of shown) expect(printed).toContain(line);
  });
});
