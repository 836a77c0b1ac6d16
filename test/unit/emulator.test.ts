import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  InvalidNextTokenException,
  ListPipelineExecutionsCommand,
  ListActionExecutionsCommand,
  ListPipelinesCommand,
  PipelineExecutionNotFoundException,
  PipelineNotFoundException,
  StartPipelineExecutionCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { fileURLToPath } from 'node:url';
import { SimulatedClock } from '../../local/clock.js';
import { serveStandalone, startEmulator, type Emulator } from '../../local/emulator/index.js';
import { parseWorld } from '../../local/world.js';
import { rejectionOf } from '../support/rejection.js';

const worldJson = {
  startTime: '2026-01-01T00:00:00Z',
  pipelines: [
    {
      name: 'P1',
      durationSeconds: 600,
      variables: [{ name: 'release', defaultValue: 'latest' }, { name: 'requested-by' }, { name: 'region', defaultValue: 'eu-west-1' }],
    },
    { name: 'P2', durationSeconds: 300, executionMode: 'PARALLEL' },
    { name: 'P3', durationSeconds: 60, pipelineType: 'V1' },
  ],
};

const executionIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function clientFor(emulator: Emulator): CodePipelineClient {
  return new CodePipelineClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

let emulatorClock: SimulatedClock;

async function startWorld(): Promise<Emulator> {
  const world = parseWorld(worldJson, 'emulator.test world');
  emulatorClock = new SimulatedClock(Date.parse(world.startTime));
  return startEmulator({ world, clock: emulatorClock });
}

describe('the CodePipeline emulator, through the real SDK client', () => {
  let emulator: Emulator;
  let codePipeline: CodePipelineClient;

  beforeEach(async () => {
    emulator = await startWorld();
    codePipeline = clientFor(emulator);
  });

  afterEach(async () => {
    codePipeline.destroy();
    await emulator.close();
  });

  it('answers an unknown pipeline with the SDK’s own PipelineNotFoundException', async () => {
    // Act
    const error = await rejectionOf(codePipeline.send(new StartPipelineExecutionCommand({ name: 'Nope' })));

    // Assess
    expect(error).toBeInstanceOf(PipelineNotFoundException);
    expect((error as PipelineNotFoundException).$metadata.httpStatusCode).toBe(400);
    expect(emulator.executions()).toEqual([]);
  });

  it('refuses a pipeline name outside CodePipeline’s pattern with a ValidationException', async () => {
    // Act
    const error = await rejectionOf(codePipeline.send(new StartPipelineExecutionCommand({ name: 'P1 and P2' })));

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toBe(
      "1 validation error detected: Value 'P1 and P2' at 'name' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+',
    );
  });

  it('refuses a clientRequestToken outside ^[a-zA-Z0-9-]+$ and starts nothing', async () => {
    // Act
    const error = await rejectionOf(
      codePipeline.send(new StartPipelineExecutionCommand({ name: 'P1', clientRequestToken: 'run_1' })),
    );

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain("at 'clientRequestToken'");
    expect(emulator.executions()).toEqual([]);
  });

  it('refuses an empty variable value, naming the list member as AWS does', async () => {
    // Act
    const error = await rejectionOf(
      codePipeline.send(new StartPipelineExecutionCommand({ name: 'P1', variables: [{ name: 'release', value: '' }] })),
    );

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain(
      "Value '' at 'variables.1.member.value' failed to satisfy constraint: " +
        'Member must have length greater than or equal to 1',
    );
  });

  it('returns the same execution for a repeated clientRequestToken and starts nothing more', async () => {
    // Prepare
    const start = () =>
      codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2', clientRequestToken: 'run-7' }));
    const first = await start();

    // Act
    const repeated = await start();

    // Assess
    expect(repeated.pipelineExecutionId).toBe(first.pipelineExecutionId);
    expect(emulator.executions()).toHaveLength(1);
    expect(emulator.executions()[0]).toMatchObject({ clientRequestToken: 'run-7', startedBy: 'sequencer' });
  });

  it('with clientRequestTokenSeconds, honours a token only that long: the same token later starts another execution', async () => {
    // Prepare: a world whose CodePipeline forgets a token after 5 minutes (AWS documents no lifetime).
    const world = parseWorld({ ...worldJson, clientRequestTokenSeconds: 300 }, 'forgetful world');
    const clock = new SimulatedClock(Date.parse(world.startTime));
    const forgetful = await startEmulator({ world, clock });
    const client = clientFor(forgetful);
    const start = () => client.send(new StartPipelineExecutionCommand({ name: 'P2', clientRequestToken: 'run-7' }));
    try {
      const first = await start();

      // Act: again 5 minutes after the first, then once more a second later.
      await clock.sleep(300);
      const within = await start();
      await clock.sleep(1);
      const after = await start();

      // Assess
      expect(within.pipelineExecutionId).toBe(first.pipelineExecutionId);
      expect(after.pipelineExecutionId).not.toBe(first.pipelineExecutionId);
      expect(forgetful.executions()).toHaveLength(2);
    } finally {
      client.destroy();
      await forgetful.close();
    }
  });

  it('keeps clientRequestTokens per pipeline', async () => {
    // Prepare
    const startWithToken = (name: string) =>
      codePipeline.send(new StartPipelineExecutionCommand({ name, clientRequestToken: 'run-7' }));

    // Act
    const onP3 = await startWithToken('P3');
    const onP2 = await startWithToken('P2');

    // Assess
    expect(onP2.pipelineExecutionId).not.toBe(onP3.pipelineExecutionId);
    expect(emulator.executions().map((execution) => execution.pipelineName)).toEqual(['P3', 'P2']);
  });

  it('hands the variables back as the execution’s resolved variables, defaults filling in the rest', async () => {
    // Prepare
    const variables = [
      { name: 'release', value: '2026.01' },
      { name: 'requested-by', value: 'sequencer@local' },
    ];
    const { pipelineExecutionId } = await codePipeline.send(
      new StartPipelineExecutionCommand({ name: 'P1', variables }),
    );

    // Act
    const { pipelineExecution } = await codePipeline.send(
      new GetPipelineExecutionCommand({ pipelineName: 'P1', pipelineExecutionId }),
    );

    // Assess
    expect(pipelineExecution).toEqual({
      pipelineName: 'P1',
      pipelineVersion: 1,
      pipelineExecutionId,
      status: 'InProgress',
      artifactRevisions: [],
      variables: [
        { name: 'release', resolvedValue: '2026.01' },
        { name: 'requested-by', resolvedValue: 'sequencer@local' },
        { name: 'region', resolvedValue: 'eu-west-1' },
      ],
      trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:sts::123456789012:assumed-role/codepipeline-sequencer-local/codepipeline-sequencer-local' },
      executionMode: 'SUPERSEDED',
      executionType: 'STANDARD',
    });
    expect(emulator.executions()[0]?.variables).toEqual({ release: '2026.01', 'requested-by': 'sequencer@local' });
  });

  it.each([
    ['on a V1 pipeline', 'P3', [{ name: 'release', value: '1' }], 'supported only for pipeline type V2'],
    ['that the pipeline does not declare', 'P1', [{ name: 'requested-by', value: 'me' }, { name: 'colour', value: 'red' }], 'Variable colour is not declared in pipeline P1'],
    ['missing where the declaration has no default', 'P1', [{ name: 'release', value: '1' }], 'Variable requested-by of pipeline P1 has no default value'],
    ['given twice', 'P1', [{ name: 'requested-by', value: 'a' }, { name: 'requested-by', value: 'b' }], 'given more than once'],
  ])('refuses variables %s with a ValidationException and starts nothing', async (_case, name, variables, message) => {
    // Act
    const error = await rejectionOf(codePipeline.send(new StartPipelineExecutionCommand({ name, variables })));

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain(message);
    expect(emulator.executions()).toEqual([]);
  });

  it.each(['Latest', 'All'] as const)('takes the latestInPipelineExecution filter as the SDK sends it (startTimeRange %s): that execution’s actions', async (startTimeRange) => {
    // Prepare
    const { pipelineExecutionId: earlier } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2' }));
    await emulatorClock.sleep(3600);
    const { pipelineExecutionId } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2' }));
    await emulatorClock.sleep(30);

    // Act
    const byExecution = await codePipeline.send(new ListActionExecutionsCommand({ pipelineName: 'P2', filter: { pipelineExecutionId } }));
    const latest = await codePipeline.send(
      new ListActionExecutionsCommand({ pipelineName: 'P2', filter: { latestInPipelineExecution: { pipelineExecutionId: pipelineExecutionId!, startTimeRange } } }),
    );

    // Assess
    expect(latest.actionExecutionDetails?.length).toBeGreaterThan(0);
    expect(latest.actionExecutionDetails?.every((detail) => detail.pipelineExecutionId === pipelineExecutionId)).toBe(true);
    expect(latest.actionExecutionDetails).toEqual(byExecution.actionExecutionDetails);
    expect(earlier).not.toBe(pipelineExecutionId);
  });

  it('applies a source revision override: the commit shows in the artifact revisions and the source action’s output', async () => {
    // Prepare
    const commit = '4f2a9c1e0b7d6a5c3e2f1a0b9c8d7e6f5a4b3c2d';
    const { pipelineExecutionId } = await codePipeline.send(
      new StartPipelineExecutionCommand({
        name: 'P2',
        sourceRevisions: [{ actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: commit }],
      }),
    );

    // Act
    await emulatorClock.sleep(30);
    const { pipelineExecution } = await codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: 'P2', pipelineExecutionId }));
    const { pipelineExecutionSummaries } = await codePipeline.send(new ListPipelineExecutionsCommand({ pipelineName: 'P2' }));
    const { actionExecutionDetails } = await codePipeline.send(
      new ListActionExecutionsCommand({ pipelineName: 'P2', filter: { pipelineExecutionId } }),
    );

    // Assess
    expect(pipelineExecution?.artifactRevisions).toEqual([expect.objectContaining({ name: 'SourceArtifact', revisionId: commit })]);
    expect(pipelineExecutionSummaries?.[0]?.sourceRevisions).toEqual([expect.objectContaining({ actionName: 'Source', revisionId: commit })]);
    const source = actionExecutionDetails?.find((detail) => detail.actionName === 'Source');
    expect(source).toMatchObject({ status: 'Succeeded', output: { outputVariables: { CommitId: commit } } });
  });

  it.each([
    ['an action that is not a source action', [{ actionName: 'Build', revisionType: 'COMMIT_ID', revisionValue: 'abc' }], 'not a source action'],
    ['a revision type the source does not take', [{ actionName: 'Source', revisionType: 'IMAGE_DIGEST', revisionValue: 'sha256:1' }], 'not supported'],
    ['the same action twice', [{ actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: 'a' }, { actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: 'b' }], 'more than once'],
  ] as const)('refuses a source revision override naming %s', async (_case, sourceRevisions, message) => {
    // Act
    const error = await rejectionOf(
      codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2', sourceRevisions: [...sourceRevisions] })),
    );

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain(message);
    expect(emulator.executions()).toEqual([]);
  });

  it('refuses a revision type outside the model’s enum as a validation error', async () => {
    // Act
    const error = await rejectionOf(
      codePipeline.send(
        new StartPipelineExecutionCommand({
          name: 'P2',
          sourceRevisions: [{ actionName: 'Source', revisionType: 'TAG' as 'COMMIT_ID', revisionValue: 'v1' }],
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain('Member must satisfy enum value set');
  });

  it('answers an execution id it never issued with PipelineExecutionNotFoundException', async () => {
    // Prepare
    const { pipelineExecutionId } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2' }));

    // Act
    const error = await rejectionOf(
      codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: 'P3', pipelineExecutionId })),
    );

    // Assess
    expect(error).toBeInstanceOf(PipelineExecutionNotFoundException);
  });

  it('refuses an execution id that is not UUID-shaped with a ValidationException', async () => {
    // Act
    const error = await rejectionOf(
      codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: 'P1', pipelineExecutionId: 'latest' })),
    );

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain("at 'pipelineExecutionId'");
  });

  it('describes a pipeline with its execution mode and type', async () => {
    // Act
    const { pipeline, metadata } = await codePipeline.send(new GetPipelineCommand({ name: 'P3' }));

    // Assess
    expect(pipeline).toMatchObject({ name: 'P3', version: 1, executionMode: 'SUPERSEDED', pipelineType: 'V1' });
    expect(metadata?.pipelineArn).toBe('arn:aws:codepipeline:us-east-1:123456789012:P3');
  });

  it('pages through ListPipelines with nextToken', async () => {
    // Act
    const firstPage = await codePipeline.send(new ListPipelinesCommand({ maxResults: 2 }));
    const secondPage = await codePipeline.send(
      new ListPipelinesCommand({ maxResults: 2, nextToken: firstPage.nextToken }),
    );

    // Assess
    expect(firstPage.pipelines?.map((pipeline) => pipeline.name)).toEqual(['P1', 'P2']);
    expect(secondPage.pipelines?.map((pipeline) => pipeline.name)).toEqual(['P3']);
    expect(secondPage.nextToken).toBeUndefined();
    expect(firstPage.pipelines?.[1]).toMatchObject({ executionMode: 'PARALLEL', pipelineType: 'V2' });
  });

  it('refuses a nextToken it did not issue with InvalidNextTokenException', async () => {
    // Act
    const error = await rejectionOf(
      codePipeline.send(new ListPipelineExecutionsCommand({ pipelineName: 'P1', nextToken: 'made-up' })),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidNextTokenException);
  });

  it.each([
    'CodePipeline_20150709.DeletePipeline',
    'CodePipeline_20150709.toString',
    'CodePipeline_20150709.GetPipeline.extra',
    'CodePipeline_20150709.GetPipelineX',
    'CodePipeline_2015.GetPipeline',
    'GetPipeline',
  ])('answers X-Amz-Target %s with UnknownOperationException', async (target) => {
    // Act
    const response = await fetch(emulator.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body: JSON.stringify({ name: 'P1' }),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers a body that is not JSON with SerializationException on the wire', async () => {
    // Act
    const response = await fetch(emulator.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'CodePipeline_20150709.GetPipeline' },
      body: '{"name": ',
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });
});

describe('reset', () => {
  it('serves another world behind the same endpoint, forgetting the previous one', async () => {
    // Prepare
    const emulator = await startWorld();
    const codePipeline = clientFor(emulator);
    await codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2' }));
    const nextWorld = parseWorld(
      { startTime: '2027-06-01T00:00:00Z', pipelines: [{ name: 'Next', durationSeconds: 5 }] },
      'next world',
    );

    // Act
    emulator.reset({ world: nextWorld, clock: new SimulatedClock(Date.parse(nextWorld.startTime)) });
    const { pipelines } = await codePipeline.send(new ListPipelinesCommand({}));

    // Assess
    expect(pipelines?.map((pipeline) => pipeline.name)).toEqual(['Next']);
    expect(emulator.executions()).toEqual([]);
    expect(emulator.callCounts()).toEqual({ ListPipelines: 1 });
    codePipeline.destroy();
    await emulator.close();
  });
});

describe('execution ids', () => {
  it('are UUID-shaped and the same on every run of one world', async () => {
    // Prepare
    const startThree = async () => {
      const emulator = await startWorld();
      const codePipeline = clientFor(emulator);
      const ids: string[] = [];
      for (const name of ['P3', 'P2', 'P3']) {
        const { pipelineExecutionId } = await codePipeline.send(new StartPipelineExecutionCommand({ name }));
        ids.push(pipelineExecutionId!);
      }
      codePipeline.destroy();
      await emulator.close();
      return ids;
    };

    // Act
    const firstRun = await startThree();
    const secondRun = await startThree();

    // Assess
    expect(secondRun).toEqual(firstRun);
    expect(new Set(firstRun).size).toBe(3);
    for (const id of firstRun) expect(id).toMatch(executionIdPattern);
  });
});

describe('serveStandalone', () => {
  let emulator: Emulator;

  afterEach(async () => {
    await emulator.close();
  });

  it('serves a world file in wall time that starts at the world’s startTime', async () => {
    // Prepare
    emulator = await serveStandalone(fileURLToPath(new URL('../../local/worlds/contention.json', import.meta.url)));
    const codePipeline = clientFor(emulator);

    // Act
    const { pipelineExecutionSummaries } = await codePipeline.send(
      new ListPipelineExecutionsCommand({ pipelineName: 'build-api' }),
    );

    // Assess
    expect(emulator.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const statuses = pipelineExecutionSummaries?.map((summary) => summary.status);
    expect(statuses).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(pipelineExecutionSummaries?.[0]?.lastUpdateTime?.toISOString()).toBe('2025-12-31T23:00:00.000Z');
    codePipeline.destroy();
  });
});
