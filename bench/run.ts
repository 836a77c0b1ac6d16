import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { measureColdStarts, samplesPerBundle, type ColdStarts } from './cold-start.js';
import { measureLocalSpeed, type LocalSpeed } from './local-speed.js';
import { compareOrchestration, policyNames, type PolicyFigures, type PolicyName } from './orchestration.js';
import { assumedBilledSecondsPerInvocation, pricesReadOn, sweeperMonthlyUsd } from './pricing.js';
import { round } from './stats.js';
import { duration, kilobytes, milliseconds, seconds, table } from './table.js';
import { buildWorkload, type Workload } from './workload.js';
import { measureTrains, trainPolicies, type Trains } from './trains.js';
import { closeLocalEngine } from '../local/engine.js';

/**
 * `npm run bench [-- --json] [-- --quick]` (or both: `-- --json --quick`): bundle size and cold start per handler, polling cost and
 * detection latency per policy, and how long the local loop takes. It prints figures and
 * never judges them; the targets they are compared with live with the team, not here.
 */
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false } } });
const flags = [values.json ? '--json' : '', values.quick ? '--quick' : ''].filter(Boolean).join(' ');
const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${flags === '' ? '' : ` -- ${flags}`}` : process.argv.join(' ');
// The engine rewrites process.env for its handlers; the timed commands get the caller's.
const callerEnvironment = { ...process.env };
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: process.platform };
const date = new Date().toISOString();
const workload = buildWorkload();

const coldStart = await measureColdStarts(progress);
// One emulator serves every simulated run of the process (the SDK clients read its endpoint
// once), so it is closed only after the last of them.
const orchestration = await compareOrchestration(workload, progress);
const trains = await measureTrains(progress);
await closeLocalEngine();
const local = await measureLocalSpeed(callerEnvironment, progress, { e2e: !values.quick });

if (values.json) {
  process.stdout.write(
    `${JSON.stringify(
      {
        date,
        machine,
        command,
        coldStart: coldStart.handlers,
        coldStartFloorMs: coldStart.floorMs,
        coldStartSdkFloorMs: coldStart.sdkFloorMs,
        coldStartTwoServiceFloorMs: coldStart.twoServiceFloorMs,
        coldStartLibrariesFloorMs: coldStart.librariesFloorMs,
        orchestration,
        trains: trains.policies,
        local,
        assumptions: {
          coldStartSamplesPerBundle: samplesPerBundle,
          pricesReadOn,
          lambdaBilledSecondsPerInvocation: assumedBilledSecondsPerInvocation,
        },
        workload: describeWorkload(workload),
      },
      null,
      2,
    )}\n`,
  );
} else {
  console.log(
    [
      `codepipeline-sequencer benchmarks · ${date} · ${machine.cpu}, ${machine.cores} cores · Node ${machine.node}`,
      `command: ${command}`,
      '',
      coldStartSection(coldStart),
      '',
      orchestrationSection(orchestration, workload),
      '',
      trainsSection(trains),
      '',
      localSection(local),
    ].join('\n'),
  );
}

function describeWorkload({ seed, pipelines, approval }: Workload) {
  return { seed, pipelines, approval };
}

function coldStartSection({ handlers: results, floorMs, sdkFloorMs, twoServiceFloorMs, librariesFloorMs }: ColdStarts): string {
  const sizes = table(
    ['handler', 'minified', 'gzip', 'init', 'source maps', 'baseline init', 'ratio', 'over SDK floor', '÷ SDK floor', '÷ two-service floor', '÷ libraries floor', 'import', 'baseline import', 'baseline size'],
    results.map((result) => [
      result.handler,
      kilobytes(result.bundleBytes),
      kilobytes(result.gzipBytes),
      milliseconds(result.initMs),
      `${milliseconds(result.sourceMapInitMs)} (+${milliseconds(Math.max(0, result.sourceMapInitMs - result.initMs))})`,
      milliseconds(result.baselineInitMs),
      result.ratio.toFixed(2),
      `+${milliseconds(Math.max(0, result.initMs - result.sdkFloorMs))}`,
      (result.initMs / result.sdkFloorMs).toFixed(2),
      (result.initMs / result.twoServiceFloorMs).toFixed(2),
      (result.initMs / result.librariesFloorMs).toFixed(2),
      milliseconds(result.importMs),
      milliseconds(result.baselineImportMs),
      kilobytes(result.baselineBundleBytes),
    ]),
  );
  const contributors = results.map(
    (result) =>
      `  ${result.handler}: ${result.topContributors
        .map((contributor) => `${contributor.source} ${kilobytes(contributor.bytes)} (${Math.round((100 * contributor.bytes) / result.bundleBytes)}%)`)
        .join(', ')}`,
  );
  return [
    `Cold start: each handler bundled as sls package does (serverless.yml custom.esbuild), against the naive`,
    `baseline (esbuild --bundle --platform=node: CommonJS, not minified, SDK bundled). init is the median over`,
    `${samplesPerBundle} fresh Node processes per bundle, interleaved, from process start to the end of one invocation`,
    `against the local emulator; import is the time from process start until the bundle is loaded.`,
    `source maps: the same bundle with NODE_OPTIONS=--enable-source-maps, as deployed.`,
    '',
    sizes,
    '',
    `Floor: the same harness with a do-nothing handler starts in ${milliseconds(floorMs)}; no bundle can go below it.`,
    `SDK floor: a handler bundled the same way that only makes one CodePipeline call (GetPipeline) takes`,
    `${milliseconds(sdkFloorMs)}; "over SDK floor" is what each handler costs beyond that. Two-service floor: the`,
    `same with a DynamoDB client too and one GetItem after it takes ${milliseconds(twoServiceFloorMs)} (${(twoServiceFloorMs / sdkFloorMs).toFixed(2)} × the SDK floor): the least`,
    `a handler that calls both services can cost; with completion: events decide-order, start-pipeline and the sweeper do.`,
    `Libraries floor: the two-service floor inside middy, with one zod/mini parse and one Powertools Logger line, as`,
    `every handler has them, takes ${milliseconds(librariesFloorMs)} (${(librariesFloorMs / sdkFloorMs).toFixed(2)} × the SDK floor): what the team's choices cost before any code of ours.`,
    `The floors are sampled beside each handler, in its rotation; its ratios divide by the floors of its own rounds`,
    `(the medians above are over all of them).`,
    '',
    'Largest contributors to what each cold start loads (the handler and its static chunks, minified):',
    ...contributors,
  ].join('\n');
}

function orchestrationSection(figures: Record<PolicyName, PolicyFigures>, { seed, pipelines, approval }: Workload): string {
  const workloadTable = table(
    ['pipeline', 'typical', 'this run', 'history (past successes)'],
    pipelines.map((pipeline) => [
      pipeline.name,
      duration(pipeline.typicalSeconds),
      duration(pipeline.durationSeconds),
      pipeline.history.map(duration).join(', '),
    ]),
    'lrrl',
  );
  const label: Record<PolicyName, string> = {
    events: 'events (serverless.yml defaults)',
    eventsDrop10: 'events, 10% of events dropped',
    eventsAllDropped: 'events, every event dropped',
    poll: 'poll (completion: poll)',
    fixed30: 'fixed30 (pollSeconds = maxPollSeconds = 30)',
    eventDriven: 'floor (computed, not run)',
  };
  const policies = table(
    ['policy', 'transitions/pipeline', 'lambda/pipeline', 'p50 latency', 'p95 latency', 'max latency', 'max history', 'USD/run'],
    policyNames.map((policy) => {
      const policyFigures = figures[policy];
      return [
        label[policy],
        policyFigures.transitionsPerPipeline.toFixed(2),
        policyFigures.lambdaInvocationsPerPipeline.toFixed(2),
        seconds(policyFigures.p50DetectionLatencySeconds),
        seconds(policyFigures.p95DetectionLatencySeconds),
        seconds(policyFigures.maxDetectionLatencySeconds),
        String(policyFigures.maxHistoryEvents),
        policyFigures.costUsdPerRun.toFixed(4),
      ];
    }),
  );
  const executions = table(
    ['execution', 'status', 'transitions', 'history events', 'lambda', 'simulated', 'detection latency', 'USD'],
    policyNames.flatMap((policy) =>
      Object.entries(figures[policy].executions).map(([name, execution]) => [
        `${policy} ${name}`,
        execution.status,
        String(execution.stateTransitions),
        String(execution.historyEvents),
        String(execution.lambdaInvocations),
        execution.simulatedSeconds === null ? 'n/a' : duration(execution.simulatedSeconds),
        execution.detectionLatenciesSeconds.length === 1 ? seconds(execution.detectionLatenciesSeconds[0]!) : '',
        execution.costUsd.toFixed(4),
      ]),
    ),
  );
  const failures = policyNames.flatMap((policy) =>
    figures[policy].failures.map((failure) => `  ${policy} ${failure.execution} FAILED ${failure.error}: ${failure.cause}`),
  );
  const ratio = (policy: PolicyName, field: 'transitionsPerPipeline' | 'costUsdPerRun') =>
    round(figures[policy][field] / figures.fixed30[field], 3);
  return [
    `Orchestration, in simulated time through the offline engine. Workload seed ${seed}: these 20 pipelines run`,
    `in this order as one execution, and ${approval.name} (a ${duration(approval.durationSeconds)} manual approval, no history) as its own.`,
    '',
    workloadTable,
    '',
    'Per pipeline and per run: the 20-pipeline execution. Latency: detectedAt - finishedAt (nearest rank).',
    'max history: the larger of the two executions.',
    `USD: Step Functions Standard transitions + Lambda requests + GB-s at 256 MB arm64, ${assumedBilledSecondsPerInvocation * 1000} ms`,
    `assumed per invocation; us-east-1 list prices read ${pricesReadOn}; no free tier. events: also the event function's`,
    `invocations, the sweeps during the run and every completion-table request (priced as a write). Events are delivered`,
    `0.5-1.5 s after the change; the sweeper runs every 60 s and costs ${sweeperMonthlyUsd(60).toFixed(2)} USD a month on its own.`,
    '',
    policies,
    '',
    executions,
    '',
    failures.length > 0 ? ['Failures:', ...failures].join('\n') : 'Failures: none',
    '',
    `Relative to fixed30: events transitions/pipeline ${ratio('events', 'transitionsPerPipeline')}, USD/run ${ratio('events', 'costUsdPerRun')};`,
    `poll transitions/pipeline ${ratio('poll', 'transitionsPerPipeline')}, USD/run ${ratio('poll', 'costUsdPerRun')};`,
    `eventDriven transitions/pipeline ${ratio('eventDriven', 'transitionsPerPipeline')}, USD/run ${ratio('eventDriven', 'costUsdPerRun')}.`,
  ].join('\n');
}

function trainsSection({ policies: figures, trainNames }: Trains): string {
  const rows = trainNames.flatMap((name) =>
    trainPolicies.map((policy) => {
      const train = figures[policy][name]!;
      return [
        `${name} · ${policy}`,
        train.status,
        String(train.executions),
        String(train.largestHistory),
        String(train.stateTransitions),
        duration(train.simulatedSeconds),
        seconds(train.p50DetectionSeconds),
        seconds(train.p95DetectionSeconds),
        seconds(train.maxDetectionSeconds),
        train.costUsd.toFixed(4),
      ];
    }),
  );
  return [
    'Release trains, in simulated time: executions a run needed (it continues as new before 24,000 history events),',
    'the largest history of any one execution, and detection latency (detectedAt - finishedAt). fixed30 is the',
    'baseline: pollSeconds = maxPollSeconds = 30. Pipelines have no history unless the name says so.',
    '',
    table(['train · policy', 'status', 'executions', 'largest history', 'transitions', 'simulated', 'p50 latency', 'p95 latency', 'max latency', 'USD'], rows),
  ].join('\n');
}

function localSection(local: LocalSpeed): string {
  const exit = (code: number | null) => (code === 0 ? 'exit 0' : `exit ${code ?? 'by signal'}`);
  return [
    'Local speed (wall time, one run each):',
    table(
      ['command', 'wall time', 'result'],
      [
        ['npm start (bin/sequencer.js run, demo world)', milliseconds(local.startMs), exit(local.startExitCode)],
        ...(local.e2eMs === null ? [] : [['jest test/e2e', milliseconds(local.e2eMs), exit(local.e2eExitCode)]]),
      ],
    ),
  ].join('\n');
}
