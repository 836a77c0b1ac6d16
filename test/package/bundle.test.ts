import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { build, type Metafile } from 'esbuild';
import { slsPackageOptions } from '../../deploy/bundle.js';
import { ShiftedWallClock } from '../../local/clock.js';
import { localStateMachineArn } from '../../local/engine.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { localLambdaEnvironment, localStageConfig } from '../../local/stage.js';
import { parseWorld } from '../../local/world.js';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb.js';

/**
 * The deployed code is the bundle, not the TypeScript the other tests run: built with
 * serverless.yml's own esbuild options (ESM, minified, SDK inside, credentials from the
 * environment, built-ins through require), each handler must load in a fresh Node process and
 * do its job against CodePipeline, as Lambda's runtime would run it.
 */
const run = promisify(execFile);
const directory = mkdtempSync(join(tmpdir(), 'sequencer-bundles-'));
const execution = { id: `${localStateMachineArn.replace(':stateMachine:', ':execution:')}:bundle-test`, name: 'bundle-test', stateMachineArn: localStateMachineArn };
let emulator: Emulator;
let dynamo: LocalDynamo;
let env: Record<string, string>;

async function invoke(handler: string, event: unknown): Promise<unknown> {
  const bundle = join(directory, 'handlers', `${handler}.mjs`);
  const { stdout } = await run('node', ['local/invoke-bundle.mjs', bundle, JSON.stringify(event)], { env });
  return (JSON.parse(stdout) as { result: unknown }).result;
}

const handlers = ['decide-order', 'start-pipeline', 'check-status', 'pipeline-event', 'sweeper'] as const;
const metafiles = {} as Record<(typeof handlers)[number], Metafile>;
const { reachableOutputs } = createRequire(import.meta.url)('../../deploy/metafile.cjs') as {
  reachableOutputs: (outputs: Metafile['outputs'], entry: string, follows?: (item: Metafile['outputs'][string]['imports'][number]) => boolean) => Set<string>;
};

beforeAll(async () => {
  // One build per function, as serverless-esbuild builds them: each function's chunks are its own.
  for (const handler of handlers) {
    const { metafile } = await build({ ...slsPackageOptions(), entryPoints: [`handlers/${handler}.ts`], outdir: join(directory, 'handlers'), metafile: true, logLevel: 'silent' });
    metafiles[handler] = metafile;
  }
  const world = parseWorld({ startTime: new Date().toISOString(), pipelines: [{ name: 'P1', durationSeconds: 3600 }] }, 'bundle world');
  emulator = await startEmulator({ world, clock: new ShiftedWallClock(Date.parse(world.startTime)) });
  emulator.stepFunctions.putExecution({
    executionArn: execution.id,
    stateMachineArn: localStateMachineArn,
    name: execution.name,
    status: 'RUNNING',
    startDate: Date.now(),
  });
  // completion: events (the stage default): start-pipeline records what the run watches in the completion table.
  dynamo = await startLocalDynamo();
  await dynamo.createTable('bundle-completion');
  env = {
    PATH: process.env.PATH ?? '',
    ...localLambdaEnvironment(emulator.endpoint, localStageConfig(['P1'])),
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    COMPLETION_TABLE_NAME: 'bundle-completion',
  };
}, 60_000);

afterAll(async () => {
  await emulator.close();
  await dynamo.close();
});

it('decides, starts and checks a pipeline from the bundles sls package deploys', async () => {
  const decided = (await invoke('decide-order', {
    input: { order: ['P1'] },
    execution: { ...execution, stateMachineArn: localStateMachineArn, startTime: new Date().toISOString() },
    retryCount: 0,
    redriveCount: 0,
  })) as { plan: { order: string[] }; run: unknown };
  const counts = { retryCount: 0, redriveCount: 0 };
  const started = (await invoke('start-pipeline', { plan: decided.plan, run: decided.run, execution, ...counts })) as {
    members: { pipelineExecutionId: string; nextLookAt: string }[];
  };
  // The wait has passed: the first look is due now.
  const due = { ...started, members: started.members.map((member) => ({ ...member, nextLookAt: new Date().toISOString() })) };
  const checked = (await invoke('check-status', { plan: decided.plan, run: due, execution, ...counts })) as {
    members: { pipelineExecutionId: string; status: string; polls: number }[];
  };

  expect(decided.plan.order).toEqual(['P1']);
  expect(emulator.executions().map((started) => started.pipelineName)).toEqual(['P1']);
  expect(started.members[0]!.pipelineExecutionId).toBe(emulator.executions()[0]!.pipelineExecutionId);
  expect(checked.members[0]).toMatchObject({ pipelineExecutionId: started.members[0]!.pipelineExecutionId, status: 'InProgress', polls: 1 });

  // The pipeline's end, as EventBridge hands it to the event function, then the sweeper: recorded once, for the run's next wait.
  const ended = {
    source: 'aws.codepipeline',
    'detail-type': 'CodePipeline Pipeline Execution State Change',
    // Where the pipeline is: the run's own account and region (its execution ARN's), as the emulator's P1 is.
    account: '123456789012',
    region: 'us-east-1',
    detail: { pipeline: 'P1', 'execution-id': started.members[0]!.pipelineExecutionId, state: 'SUCCEEDED', version: 1 },
  };
  expect(await invoke('pipeline-event', ended)).toEqual({ outcome: 'no-wait' });
  expect(await invoke('pipeline-event', ended)).toEqual({ outcome: 'duplicate' });
  expect(await invoke('sweeper', {})).toMatchObject({ watched: 0, ended: 0 });
});

it('reports a refusal by name from the bundle, as Step Functions will see it', async () => {
  const attempt = invoke('decide-order', {
    input: { order: ['P9'] },
    execution: { ...execution, stateMachineArn: localStateMachineArn, startTime: new Date().toISOString() },
    retryCount: 0,
    redriveCount: 0,
  });

  // The line Node prints for the uncaught error (the minified line above it names every error of the bundle).
  await expect(attempt).rejects.toThrow(/^PipelineNotAllowed: order: P9 is not allowed in this stage/m);
});

it('loads the Step Functions client from its own chunk when a rare path needs it: a run that meets the lock of a running one', async () => {
  // The stage's run lock, held by a train whose execution Step Functions says is RUNNING.
  const lock = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await lock.send(
    new PutItemCommand({
      TableName: 'bundle-completion',
      Item: { pk: { S: `lock#${localStateMachineArn}` }, holder: { S: execution.id }, holderExecution: { S: execution.id } },
    }),
  );
  lock.destroy();

  const second = invoke('decide-order', {
    input: { order: ['P1'] },
    execution: { ...execution, id: `${execution.id}-second`, name: 'bundle-test-second', startTime: new Date().toISOString() },
    retryCount: 0,
    redriveCount: 0,
  });

  // DescribeExecution, through the chunk the bundle loads only now, said the holder runs.
  await expect(second).rejects.toThrow(new RegExp(`^AlreadyRunning: .*:${execution.name} holds the stage's run lock`, 'm'));
});

/** The AWS SDK clients whose code a function's cold start loads: its entry and what that imports statically, transitively. */
function clientsLoadedAtStart(handler: (typeof handlers)[number]): string[] {
  const { outputs } = metafiles[handler];
  const entry = Object.keys(outputs).find((output) => outputs[output]!.entryPoint === `handlers/${handler}.ts`)!;
  const loaded = reachableOutputs(outputs, entry, ({ kind }) => kind === 'import-statement');
  const inputs = [...loaded].flatMap((output) => Object.keys(outputs[output]!.inputs));
  return [...new Set(inputs.map((input) => /node_modules\/@aws-sdk\/client-([a-z]+)\//.exec(input)?.[1]).filter((client) => client !== undefined))].sort();
}

it('loads at its cold start the code of the AWS clients each function calls on its common path only: the rare ones (Step Functions, STS, DynamoDB in check-status) on first use', () => {
  expect(Object.fromEntries(handlers.map((handler) => [handler, clientsLoadedAtStart(handler)]))).toEqual({
    'decide-order': ['codepipeline', 'dynamodb'],
    'start-pipeline': ['codepipeline', 'dynamodb'],
    // check-status meets the completion table only on rare paths (the train's end, a redrive, a held failure).
    'check-status': ['codepipeline'],
    // The event function wakes runs (Step Functions) and never calls CodePipeline.
    'pipeline-event': ['dynamodb', 'sfn'],
    sweeper: ['codepipeline', 'dynamodb', 'sfn'],
  });
});

it("loads the DynamoDB client from its own chunk in check-status when a rare path needs it: a redriven run takes the stage's run lock again", async () => {
  // Prepare: a run of P1, its first look due, whose execution Step Functions has redriven once.
  const redriven = { ...execution, id: `${execution.id}-redriven`, name: 'bundle-test-redriven' };
  emulator.stepFunctions.putExecution({ executionArn: redriven.id, stateMachineArn: localStateMachineArn, name: redriven.name, status: 'RUNNING', startDate: Date.now() });
  const table = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const lockItem = async () => (await table.send(new GetItemCommand({ TableName: 'bundle-completion', Key: { pk: { S: `lock#${localStateMachineArn}` } } }))).Item;
  await table.send(new DeleteItemCommand({ TableName: 'bundle-completion', Key: { pk: { S: `lock#${localStateMachineArn}` } } }));
  const counts = { retryCount: 0, redriveCount: 0 };
  const decided = (await invoke('decide-order', { input: { order: ['P1'] }, execution: { ...redriven, startTime: new Date().toISOString() }, ...counts })) as { plan: unknown; run: unknown };
  const started = (await invoke('start-pipeline', { plan: decided.plan, run: decided.run, execution: redriven, ...counts })) as { members: { pipelineExecutionId: string }[] };
  const due = { ...started, members: started.members.map((member) => ({ ...member, nextLookAt: new Date().toISOString() })) };
  const taken = (await lockItem())!.taken;
  emulator.stepFunctions.redriven(redriven.id, 1, Date.now());

  try {
    // Act
    const checked = (await invoke('check-status', { plan: decided.plan, run: due, execution: redriven, retryCount: 0, redriveCount: 1 })) as {
      members: { pipelineExecutionId: string; status: string }[];
    };

    // Assess: the look was made, and the lock was taken again by the same run, with a new mark.
    expect(checked.members[0]).toMatchObject({ pipelineExecutionId: started.members[0]!.pipelineExecutionId, status: 'InProgress' });
    expect(await lockItem()).toMatchObject({ holder: { S: redriven.id }, holderExecution: { S: redriven.id } });
    expect((await lockItem())!.taken).not.toEqual(taken);
  } finally {
    table.destroy();
  }
});
