import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { localStateMachineArn } from '../local/engine.js';
import { ShiftedWallClock } from '../local/clock.js';
import { startEmulator, type Emulator } from '../local/emulator/index.js';
import { localLambdaEnvironment, localStageConfig, projectRoot } from '../local/stage.js';
import { parseWorld } from '../local/world.js';
import { median, round } from './stats.js';
import { slsPackageOptions } from '../deploy/bundle.js';
import { startLocalDynamo, type LocalDynamo } from '../local/dynamodb.js';
import { hubAccountId } from '../local/world.js';
import { pipelineEvent } from '../local/pipeline-events.js';
import { waitKey, watchKey } from '../src/completion-table.js';
import { pipelineKey } from '../src/targets.js';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

const handlerNames = ['decide-order', 'start-pipeline', 'check-status', 'pipeline-event', 'sweeper'] as const;
type HandlerName = (typeof handlerNames)[number];

export interface BundleContributor {
  /** An npm package, or `(project)` for handlers/ and src/. */
  source: string;
  bytes: number;
}

export interface ColdStartResult {
  handler: HandlerName;
  /** What a cold start loads: the handler's file and the chunks it imports statically (not those a rare path loads). */
  bundleBytes: number;
  gzipBytes: number;
  initMs: number;
  /** The same bundle run as Lambda runs it, with NODE_OPTIONS=--enable-source-maps (serverless.yml). */
  sourceMapInitMs: number;
  baselineInitMs: number;
  ratio: number;
  /** The SDK floors, sampled beside this handler in the same rotation: what its ratios divide by. */
  sdkFloorMs: number;
  twoServiceFloorMs: number;
  librariesFloorMs: number;
  /** Median time from process start until the bundle is imported; initMs minus this is the first invocation. */
  importMs: number;
  baselineImportMs: number;
  baselineBundleBytes: number;
  samples: number;
  topContributors: BundleContributor[];
}

/** Fresh processes per handler and per bundle: at least 15, odd so the median is one real sample. */
export const samplesPerBundle = 21;
const contributorsShown = 8;

const bundleDirectory = `${projectRoot}.bench/bundles`;
const invokeOnce = `${projectRoot}local/invoke-bundle.mjs`;
const projectNode = `${projectRoot}node_modules/.bin/node`;

/** What one gets from `esbuild --bundle --platform=node` without thinking further: CommonJS, readable, SDK inside. */
const naiveOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: false,
  outExtension: { '.js': '.cjs' },
};

interface Bundle {
  file: string;
  /** The outputs a cold start loads: the entry and its static imports (output paths, as the metafile names them). */
  loaded: string[];
  bytes: number;
  gzipBytes: number;
  metafile: Metafile;
}

async function bundle(handler: HandlerName, flavour: 'project' | 'baseline'): Promise<Bundle> {
  const options = flavour === 'project' ? slsPackageOptions() : naiveOptions;
  const outdir = `${bundleDirectory}/${flavour}`;
  const result = await build({
    ...options,
    absWorkingDir: projectRoot,
    entryPoints: [`handlers/${handler}.ts`],
    outdir,
    metafile: true,
    logLevel: 'silent',
  });
  // The handler's own file: a chunk loaded with import() has an entryPoint too, the SDK's own.
  const file = Object.entries(result.metafile.outputs).find(([, { entryPoint }]) => entryPoint === `handlers/${handler}.ts`)![0];
  const loaded = staticallyLoaded(result.metafile, file);
  const code = loaded.map((output) => readFileSync(`${projectRoot}${output}`));
  return {
    file: `${projectRoot}${file}`,
    loaded,
    bytes: code.reduce((sum, part) => sum + part.length, 0),
    gzipBytes: code.reduce((sum, part) => sum + gzipSync(part).length, 0),
    metafile: result.metafile,
  };
}

type MetafileImport = Metafile['outputs'][string]['imports'][number];
const { reachableOutputs } = createRequire(import.meta.url)('../deploy/metafile.cjs') as {
  reachableOutputs: (outputs: Metafile['outputs'], entry: string, follows?: (item: MetafileImport) => boolean) => Set<string>;
};

/** The entry and the chunks it imports statically, transitively: what a cold start loads. */
const staticallyLoaded = (metafile: Metafile, entry: string): string[] => [
  ...reachableOutputs(metafile.outputs, entry, ({ kind }) => kind === 'import-statement'),
];

/** Output bytes per npm package (scoped packages kept whole), largest first. */
function topContributors({ metafile, loaded }: Bundle): BundleContributor[] {
  const bytesBySource = new Map<string, number>();
  for (const output of loaded.map((path) => metafile.outputs[path]!)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const inPackage = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const source = inPackage ? inPackage[1]! : '(project)';
      bytesBySource.set(source, (bytesBySource.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...bytesBySource.entries()]
    .map(([source, bytes]) => ({ source, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, contributorsShown);
}

interface Invocation {
  importMs: number;
  initMs: number;
  result: unknown;
}

/** One fresh Node process: import the bundle, invoke the handler once, report its own timings. */
function invokeInFreshProcess(bundleFile: string, event: unknown, env: Record<string, string>): Promise<Invocation> {
  return new Promise((resolve, reject) => {
    const child = spawn(projectNode, [invokeOnce, bundleFile, JSON.stringify(event)], {
      cwd: projectRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`invoking ${bundleFile} failed (exit ${code}):\n${stderr}${stdout}`));
        return;
      }
      resolve(JSON.parse(stdout) as Invocation);
    });
  });
}

const coldStartExecution = {
  id: `${localStateMachineArn.replace(':stateMachine:', ':execution:')}:cold-start`,
  name: 'cold-start',
  stateMachineArn: localStateMachineArn,
};
/** $$.State.RetryCount and $$.Execution.RedriveCount, as the definition passes them: a first attempt. */
const firstAttempt = { retryCount: 0, redriveCount: 0 };

/**
 * The pipelines the invocations touch. Build runs for an hour so that check-status finds it
 * InProgress, the common case of the polling loop; the history gives start-pipeline a
 * realistic ListPipelineExecutions page to read.
 */
function coldStartWorld(startTime: string) {
  return parseWorld(
    {
      startTime,
      pipelines: [
        { name: 'Build', durationSeconds: 3600, history: [3300, 3500, 3700] },
        { name: 'Deploy', durationSeconds: 1800, history: [1700, 1750, 1900] },
      ],
    },
    'cold-start world',
  );
}

/** The environment serverless.yml gives the functions, pointed at the emulator; nothing inherited. */
function handlerEnvironment(emulator: Emulator, pipelines: string[]): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...localLambdaEnvironment(emulator.endpoint, localStageConfig(pipelines)) };
}

/**
 * Each handler's event is what the previous handler returned, as in the state machine: the
 * shapes cannot drift from the code, and check-status watches an execution start-pipeline
 * really started. These first invocations also warm the disk cache before anything is timed.
 */
async function chainEvents(projectBundles: Record<HandlerName, Bundle>, env: Record<string, string>) {
  const decideEvent = {
    input: { order: ['Build', 'Deploy'] },
    execution: { ...coldStartExecution, startTime: new Date().toISOString() },
    ...firstAttempt,
  };
  const decided = (await invokeInFreshProcess(projectBundles['decide-order'].file, decideEvent, env)).result as {
    plan: unknown;
    run: unknown;
  };
  const startEvent = { plan: decided.plan, run: decided.run, execution: coldStartExecution, ...firstAttempt };
  const started = (await invokeInFreshProcess(projectBundles['start-pipeline'].file, startEvent, env)).result as {
    members: Record<string, unknown>[];
  };
  // The Wait has passed: the look is due, so check-status makes its CodePipeline call as it does in the loop.
  const due = { ...started, members: started.members.map((member) => ({ ...member, nextLookAt: new Date().toISOString() })) };
  const checkEvent = { plan: decided.plan, run: due, execution: coldStartExecution, ...firstAttempt };
  // The end of the execution start-pipeline started, as EventBridge delivers it; the sweeper takes no input.
  const pipelineExecutionId = started.members[0]!.pipelineExecutionId as string;
  // Shaped by the code the local event bus delivers with, so it cannot fall behind the event function's schema.
  const endEvent = pipelineEvent(
    { pipelineName: 'Build', pipelineExecutionId, state: 'SUCCEEDED', at: Date.now(), startedAt: Date.now(), accountId: hubAccountId, region: env.AWS_REGION! },
    'cold-start',
  );
  return {
    events: { 'decide-order': decideEvent, 'start-pipeline': startEvent, 'check-status': checkEvent, 'pipeline-event': endEvent, sweeper: {} },
    watched: { pipelineName: 'Build', pipelineExecutionId },
  };
}

/**
 * Puts back the completion table as a run parked on Build leaves it: Build's watch open, the
 * run's wait holding a task token the emulator issued, as the callback Task does. Before every
 * sample of the functions that read it, so each does its whole common path rather than a cheaper
 * one its previous sample left behind: the event function marks the watch ended, claims the wait
 * and completes the token with SendTaskSuccess; the sweeper scans, finds the watch open and asks
 * GetPipelineExecution, which says InProgress, as most sweeps hear.
 */
async function parkedRun(
  dynamo: LocalDynamo,
  emulator: Emulator,
  table: string,
  region: string,
  watched: { pipelineName: string; pipelineExecutionId: string },
) {
  const token = emulator.tasks().issue(coldStartExecution.id, () => undefined);
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const wait = waitKey(coldStartExecution.id);
  const expiresAt = { N: String(Math.floor(Date.now() / 1000) + 86_400) };
  try {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: watchKey(pipelineKey(hubAccountId, region, watched.pipelineName), watched.pipelineExecutionId) },
          pipelineName: { S: watched.pipelineName },
          pipelineExecutionId: { S: watched.pipelineExecutionId },
          waitKey: { S: wait },
          expiresAt,
        },
      }),
    );
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: wait }, seq: { N: '1' }, token: { S: token }, expiresAt } }));
  } finally {
    client.destroy();
  }
}

export interface ColdStarts {
  handlers: ColdStartResult[];
  /**
   * The same harness importing a handler that does nothing: Node's own start, which no bundle
   * can take away. What a bundle can win is initMs minus this.
   */
  floorMs: number;
  /**
   * A handler bundled the same way that only creates a CodePipeline client and makes one call
   * (GetPipeline): the least any handler of ours could cost, since each makes at least that.
   */
  sdkFloorMs: number;
  /**
   * The same with a DynamoDB client too, and one GetItem after the GetPipeline: the least a
   * handler that calls both services can cost: with completion: events, decide-order (the run
   * lock), start-pipeline (the watch items) and the sweeper do on every invocation.
   */
  twoServiceFloorMs: number;
  /**
   * The two-service floor with the libraries the team chose for every handler around it: middy,
   * one zod/mini parse of the event and one Powertools Logger line. What a handler that calls two
   * services costs before any code of ours.
   */
  librariesFloorMs: number;
}

const sdkFloorHandlers = {
  'sdk-call': [
    "import { CodePipelineClient, GetPipelineCommand } from '@aws-sdk/client-codepipeline';",
    'const client = new CodePipelineClient({});',
    "export const handler = async () => (await client.send(new GetPipelineCommand({ name: 'Build' }))).pipeline?.name;",
  ],
  'two-service-call': [
    "import { CodePipelineClient, GetPipelineCommand } from '@aws-sdk/client-codepipeline';",
    "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';",
    'const client = new CodePipelineClient({});',
    'const dynamo = new DynamoDBClient({});',
    'export const handler = async () => {',
    "  const { pipeline } = await client.send(new GetPipelineCommand({ name: 'Build' }));",
    "  await dynamo.send(new GetItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Key: { pk: { S: 'floor' } } }));",
    '  return pipeline?.name;',
    '};',
  ],
  'libraries-call': [
    "import { CodePipelineClient, GetPipelineCommand } from '@aws-sdk/client-codepipeline';",
    "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';",
    "import { Logger } from '@aws-lambda-powertools/logger';",
    "import middy from '@middy/core';",
    "import * as z from 'zod/mini';",
    'const client = new CodePipelineClient({});',
    'const dynamo = new DynamoDBClient({});',
    "const logger = new Logger({ serviceName: 'floor' });",
    'const event = z.object({ name: z.optional(z.string().check(z.minLength(1))) });',
    'export const handler = middy(async (input: unknown) => {',
    "  const { name = 'Build' } = event.parse(input);",
    '  const { pipeline } = await client.send(new GetPipelineCommand({ name }));',
    "  await dynamo.send(new GetItemCommand({ TableName: process.env.COMPLETION_TABLE_NAME, Key: { pk: { S: 'floor' } } }));",
    "  logger.info('floor', { pipeline: pipeline?.name });",
    '  return pipeline?.name;',
    '});',
  ],
};

/** The floors sampled beside each handler: each flavour's name in the runs, and the handler it bundles. */
const floorHandlers = { sdkFloor: 'sdk-call', twoServiceFloor: 'two-service-call', librariesFloor: 'libraries-call' } as const;
type Floor = keyof typeof floorHandlers;
const floors = Object.keys(floorHandlers) as Floor[];

/** The median init over some fresh processes, to a tenth of a millisecond. */
const medianInitMs = (runs: Invocation[]) => round(median(runs.map((run) => run.initMs)), 1);

/** An SDK floor's handler, bundled with the project's own options. */
async function sdkFloorBundle(name: keyof typeof sdkFloorHandlers): Promise<string> {
  // A file of its own in the project, not stdin: esbuild splits code (serverless.yml) only into an
  // outdir, and resolves the SDK from the project's node_modules.
  const source = `${bundleDirectory}/floor-source/${name}.ts`;
  mkdirSync(dirname(source), { recursive: true });
  writeFileSync(source, sdkFloorHandlers[name].join('\n'));
  const outdir = `${bundleDirectory}/floor/${name}`;
  await build({ ...slsPackageOptions(), absWorkingDir: projectRoot, entryPoints: [source], outdir, logLevel: 'silent' });
  return `${outdir}/${name}.mjs`;
}

/** A do-nothing ES module handler, for the floor. */
async function emptyHandlerBundle(): Promise<string> {
  const outfile = `${bundleDirectory}/floor/empty-handler.mjs`;
  await build({
    stdin: { contents: 'export const handler = async () => ({});', loader: 'js' },
    format: 'esm',
    platform: 'node',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** What the functions whose path depends on the table return on the path measured; anything else is returned, for the error. */
const measuredPath: Partial<Record<HandlerName, (result: unknown) => string | undefined>> = {
  'pipeline-event': (result) => ((result as { outcome?: string }).outcome === 'completed' ? undefined : JSON.stringify(result)),
  sweeper: (result) => {
    const { watched, ended } = result as { watched?: number; ended?: number };
    return watched === 1 && ended === 0 ? undefined : JSON.stringify(result);
  },
};

export async function measureColdStarts(progress: (line: string) => void): Promise<ColdStarts> {
  const bundles = {} as Record<HandlerName, { project: Bundle; baseline: Bundle }>;
  for (const handler of handlerNames) {
    bundles[handler] = { project: await bundle(handler, 'project'), baseline: await bundle(handler, 'baseline') };
  }

  // The wall clock, so that the times the handlers read agree with the emulator's.
  const world = coldStartWorld(new Date().toISOString());
  const emulator = await startEmulator({ world, clock: new ShiftedWallClock(Date.parse(world.startTime)) });
  const dynamo = await startLocalDynamo();
  const results: ColdStartResult[] = [];
  try {
    // decide-order refuses to run unless Step Functions lists its own execution (single flight).
    emulator.stepFunctions.putExecution({
      executionArn: coldStartExecution.id,
      stateMachineArn: localStateMachineArn,
      name: coldStartExecution.name,
      status: 'RUNNING',
      startDate: Date.now(),
    });
    // completion: events (the default): the functions meet on the completion table, in dynalite here.
    const completionTable = 'cold-start-completion';
    await dynamo.createTable(completionTable);
    const env: Record<string, string> = {
      ...handlerEnvironment(emulator, world.pipelines.map((pipeline) => pipeline.name)),
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      COMPLETION_TABLE_NAME: completionTable,
    };
    const projectBundles = Object.fromEntries(handlerNames.map((handler) => [handler, bundles[handler].project])) as Record<
      HandlerName,
      Bundle
    >;
    const { events, watched } = await chainEvents(projectBundles, env);
    const prepare = (handler: HandlerName) =>
      handler === 'pipeline-event' || handler === 'sweeper' ? parkedRun(dynamo, emulator, completionTable, env.AWS_REGION!, watched) : Promise.resolve();

    // The SDK floors are sampled beside each handler, in the same rotation, so that a handler and
    // the floor it is divided by share the machine's load of the moment.
    const floorFiles = {} as Record<Floor, string>;
    for (const floor of floors) {
      floorFiles[floor] = await sdkFloorBundle(floorHandlers[floor]);
      await invokeInFreshProcess(floorFiles[floor], {}, env);
    }
    const allFloorRuns = Object.fromEntries(floors.map((floor) => [floor, [] as Invocation[]])) as Record<Floor, Invocation[]>;

    for (const handler of handlerNames) {
      const { project, baseline } = bundles[handler];
      // Untimed, as chainEvents was for the project's bundle: a first read from disk is a cost
      // of this machine, not of the bundle.
      await prepare(handler);
      const pathTaken = measuredPath[handler]?.((await invokeInFreshProcess(baseline.file, events[handler], env)).result);
      if (pathTaken !== undefined) throw new Error(`cold start: ${handler} did not take the path measured: it returned ${pathTaken}`);
      const withSourceMaps = { ...env, NODE_OPTIONS: '--enable-source-maps' };
      const files = { project: project.file, sourceMaps: project.file, baseline: baseline.file, ...floorFiles };
      // Rotating which goes first spreads any drift in machine load over every flavour.
      const flavours = ['baseline', 'project', 'sourceMaps', ...floors] as const;
      const runs = Object.fromEntries(flavours.map((flavour) => [flavour, [] as Invocation[]])) as Record<(typeof flavours)[number], Invocation[]>;
      for (let sample = 0; sample < samplesPerBundle; sample += 1) {
        for (let turn = 0; turn < flavours.length; turn += 1) {
          const flavour = flavours[(sample + turn) % flavours.length]!;
          const floor = flavour in floorFiles;
          if (!floor) await prepare(handler);
          runs[flavour].push(await invokeInFreshProcess(files[flavour], floor ? {} : events[handler], flavour === 'sourceMaps' ? withSourceMaps : env));
        }
      }
      for (const floor of floors) allFloorRuns[floor].push(...runs[floor]);
      const { project: projectRuns, baseline: baselineRuns } = runs;
      const initMs = median(projectRuns.map((run) => run.initMs));
      const baselineInitMs = median(baselineRuns.map((run) => run.initMs));
      results.push({
        handler,
        bundleBytes: project.bytes,
        gzipBytes: project.gzipBytes,
        initMs: round(initMs, 1),
        sourceMapInitMs: medianInitMs(runs.sourceMaps),
        baselineInitMs: round(baselineInitMs, 1),
        ratio: round(initMs / baselineInitMs, 3),
        sdkFloorMs: medianInitMs(runs.sdkFloor),
        twoServiceFloorMs: medianInitMs(runs.twoServiceFloor),
        librariesFloorMs: medianInitMs(runs.librariesFloor),
        importMs: round(median(projectRuns.map((run) => run.importMs)), 1),
        baselineImportMs: round(median(baselineRuns.map((run) => run.importMs)), 1),
        baselineBundleBytes: baseline.bytes,
        samples: samplesPerBundle,
        topContributors: topContributors(project),
      });
      progress(`cold start: ${handler} measured`);
    }
    const emptyHandler = await emptyHandlerBundle();
    const floorRuns: Invocation[] = [];
    for (let sample = 0; sample < samplesPerBundle; sample += 1) {
      floorRuns.push(await invokeInFreshProcess(emptyHandler, {}, env));
    }
    return {
      handlers: results,
      floorMs: medianInitMs(floorRuns),
      sdkFloorMs: medianInitMs(allFloorRuns.sdkFloor),
      twoServiceFloorMs: medianInitMs(allFloorRuns.twoServiceFloor),
      librariesFloorMs: medianInitMs(allFloorRuns.librariesFloor),
    };
  } finally {
    await emulator.close();
    await dynamo.close();
  }
}
