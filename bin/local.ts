import { constants } from 'node:os';
import { relative } from 'node:path';
import type { RunReport } from '../local/engine.js';
import { fileLabel, inDigits, typedNumber, UsageError, WorldFileError } from '../local/refusals.js';
import { localStageConfig, projectRoot, stageParams } from '../local/stage.js';
import { loadWorld, worldPipelineNames, worldTargets, type World } from '../local/world.js';
import type { TrainService } from '../local/trains.js';
import { executionArnPrefix } from '../src/continuation.js';
import type { StageConfig } from '../src/config.js';
import { duration } from '../src/duration.js';
import { ConfigurationError } from '../src/errors.js';
import { continueAtEvents, minContinueAtEvents } from '../src/history-budget.js';
import { executionInputSchema } from '../src/input.js';
import { parseOrThrow } from '../src/parse.js';
import { pipelineNamePattern } from '../src/names.js';
import { chooseOrder } from '../src/order-policy.js';
import { entryName, type PipelineEntry } from '../src/targets.js';
import { CannotRun } from './errors.js';
import { checkExecutionInputSize, earlierAttemptsJson, inputFileLabel, output, parseJsonInput, parseOnce, readInputFile, reportFailure, shorthandOptions, terminalWidth, withShorthands } from './cli.js';
import { ProgressPrinter, colourWanted, count, failureLine, offsetFrom, palette, startedWith, summary, utcTime } from './format.js';
import { RunState, pipelinesJson, seeEvent, summaryRows, type SummaryRow } from './summary.js';

/**
 * The commands that run offline, in this process: run (one train in simulated time) and
 * emulator (the emulator served for the AWS commands and the AWS CLI).
 */

const defaultWorld = `${projectRoot}local/worlds/demo.json`;

/** `--completion`: the stage param `completion`, overridden for one local run or emulator. */
function completionOption(value: string | undefined): 'events' | 'poll' | undefined {
  if (value === undefined || value === 'events' || value === 'poll') return value;
  throw new UsageError(`--completion must be events or poll, got ${JSON.stringify(value)}`);
}

/**
 * `--continue-at`: an execution hands over to its successor once one more step would bring its
 * history to this many events, in place of 24,000, to watch a continuation without simulating weeks of looks (local only: a
 * deployed stage always hands over at 24,000).
 */
function continueAtOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const events = typedNumber(value);
  if (!Number.isInteger(events) || events < minContinueAtEvents || events > continueAtEvents) {
    throw new UsageError(`--continue-at must be a whole number of history events from ${minContinueAtEvents} to ${continueAtEvents}, got '${value}'${inDigits(value)}`);
  }
  return events;
}

/** The stage params one local run or emulator overrides: --completion and --continue-at. */
function settingsOf(values: { completion?: string; 'continue-at'?: string }): Partial<StageConfig> | undefined {
  const completion = completionOption(values.completion);
  const continueAt = continueAtOption(values['continue-at']);
  if (completion === undefined && continueAt === undefined) return undefined;
  return { ...(completion && { completion }), ...(continueAt !== undefined && { continueAtEvents: continueAt }) };
}

const parseRunArguments = (argv: string[]) =>
  parseOnce({
    args: argv,
    strict: true,
    options: {
      input: { type: 'string' },
      'input-file': { type: 'string' },
      world: { type: 'string' },
      stage: { type: 'string' },
      json: { type: 'boolean', default: false },
      redrive: { type: 'boolean', default: false },
      timestamps: { type: 'boolean', default: false },
      completion: { type: 'string' },
      'continue-at': { type: 'string' },
      ...shorthandOptions,
    },
  }).values;

const speedRule = 'a positive number (1 is wall time, 60 a minute a second)';

export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  // Refused before it starts: the command line prints the refusal (with --json, its document too).
  const values = parseRunArguments(argv);
  const settings = settingsOf(values);
  if (values.input !== undefined && values['input-file'] !== undefined) {
    throw new UsageError('give --input or --input-file, not both');
  }
  if (values.world === '-' && values['input-file'] === '-') throw new UsageError('--world - and --input-file - would both read stdin: give one of them a file');
  const source = values['input-file'] === undefined ? '--input' : inputFileLabel(values['input-file']);
  const input = withShorthands(readInput(values.input, values['input-file']), values, source);
  checkExecutionInputSize(input, source);
  const worldName = values.world === undefined ? relative(process.cwd(), defaultWorld) : fileLabel(values.world);
  const world: World = await loadWorld(values.world ?? defaultWorld);
  checkWorldFitsStage(world, worldName, values.stage);
  checkOrderIsInWorld(input, world, worldName, values.stage, values.order !== undefined ? '--order' : '--input');
  // The engine (the interpreter, the SDK clients, DynamoDB) loads once the run is sure to go ahead.
  const { LocalEngine } = await import('../local/engine.js');
  const engine = await LocalEngine.create({ world, ...(values.stage !== undefined && { stage: values.stage }), ...(settings && { settings }) });
  const runStart = engine.clock.now();
  const onGitHub = process.env.GITHUB_ACTIONS === 'true';

  let report: RunReport;
  const state = new RunState();
  const rowsOf = (finished: RunReport) => summaryRows(state.plan, state.run, finished);
  // The emulator serves until the run ends, however it ends: left open, it would hold the process.
  try {
    if (values.json) {
      report = await engine.run({ input, signal, redrive: values.redrive, onEvent: (event) => seeEvent(state, event) });
      output.out(JSON.stringify(jsonReport(report, rowsOf(report)), null, 2));
    } else {
      const colours = palette(colourWanted(process.env, Boolean(process.stdout.isTTY)));
      const time = values.timestamps ? utcTime : offsetFrom(runStart);
      const printer = new ProgressPrinter((line) => output.out(line), colours, time);
      const header = `codepipeline-sequencer · local run · world ${worldName} · simulated time from ${world.startTime}`;
      output.out(onGitHub ? `::group::${header}` : colours.dim(header));
      report = await engine.run({
        input,
        signal,
        redrive: values.redrive,
        onEvent: (event) => {
          seeEvent(state, event);
          printer.on(event);
        },
      });
      if (report.status === 'ABORTED') {
        output.out(`${colours.dim(time(engine.clock.now()).padStart(13))}  ${colours.yellow(`interrupted (${String(signal.reason)})`)}`);
      }
      if (onGitHub) output.out('::endgroup::');
      const ours = report.world.executions.filter((execution) => execution.startedBy === 'sequencer');
      const rows = rowsOf(report);
      for (const line of summary(report, rows, colours, time, { clock: 'simulated', variables: startedWith(ours, rows), width: terminalWidth() })) output.out(line);
    }
  } finally {
    await engine.emulator.close();
  }
  if (report.status === 'FAILED') reportFailure(report, values.json, onGitHub);
  if (report.status === 'ABORTED') return 128 + constants.signals[signal.reason as 'SIGINT'];
  if (report.status === 'SUCCEEDED') return 0;
  // Failed before decide-order decided anything (bad input, a pipeline the stage does not allow):
  // nothing started. `start` says exit 3 for that very refusal, and so does the rehearsal of it.
  return state.plan === undefined ? refusedAtDecideOrder : 1;
}

/** The exit code of a run, or a start, that decide-order refused: nothing was started. */
const refusedAtDecideOrder = 3;

/** The pipelines --stage allows (its pipelines param in serverless.yml); undefined without --stage. */
const allowedBy = (stage: string | undefined): string[] | undefined => (stage === undefined ? undefined : (stageParams(stage).pipelines as PipelineEntry[]).map(entryName));

/**
 * A stage param serverless.yml sets wrong is named as such, whatever the world (local/stage.ts).
 * A world with no pipelines, or none the stage allows, or more than a stage may list, cannot
 * make a stage config; say which, about the world file, instead of STAGE_CONFIG's complaint.
 */
function checkWorldFitsStage(world: World, worldName: string, stage: string | undefined): void {
  // serverless.yml's params come first, the default ones too: a wrong one is no fault of the world's.
  stageParams(stage);
  const allowed = allowedBy(stage);
  const names = worldPipelineNames(world);
  if (names.length === 0) throw new WorldFileError(`${worldName}: "pipelines" is empty; a run needs at least one pipeline`);
  if (allowed !== undefined && !names.some((name) => allowed.includes(name))) {
    throw new WorldFileError(`--stage ${stage} allows none of the pipelines in ${worldName} (${names.join(', ')}): see the stage's params in serverless.yml`);
  }
  try {
    localStageConfig(names, stage);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    throw new WorldFileError(`${worldName}: its ${names.length} pipelines do not fit a stage: ${error.message.replace(/^STAGE_CONFIG\./, '')}`);
  }
}

/**
 * Names the world file when the order the run would take names a pipeline it does not have:
 * locally that is the world's gap, not the stage's allow-list. Decides the order with the real
 * policy; an input it cannot read is left for the run to refuse, exactly as on AWS.
 */
function checkOrderIsInWorld(input: unknown, world: World, worldName: string, stage: string | undefined, inputOption = '--input'): void {
  const names = worldPipelineNames(world);
  let order: string[];
  let source: string;
  try {
    const config = localStageConfig(names, stage);
    const decision = chooseOrder({
      input: parseOrThrow(executionInputSchema, input, 'input'),
      sequences: config.sequences,
      defaultSequence: config.defaultSequence,
      now: new Date(world.startTime),
    });
    order = (decision.order as unknown[]).flat() as string[];
    source = decision.source;
  } catch {
    return;
  }
  // A name CodePipeline could never have ("P 1", "P1\n"), or one named twice, is the input's
  // fault, not the world's: the run refuses it with the sequencer's own InvalidInput, as on AWS.
  const acceptable = order.every((name) => typeof name === 'string' && pipelineNamePattern.test(name)) && new Set(order).size === order.length;
  if (!acceptable) return;
  const missing = order.filter((name) => !names.includes(name));
  if (missing.length === 0) return;
  const quoted = (list: string[]) => list.map((name) => JSON.stringify(name)).join(', ');
  const [kind, sequence] = source.split(':');
  const from = kind === 'order' ? 'the input order' : `${kind === 'default' ? 'the default ' : ''}sequence '${sequence}' (${quoted(order)})`;
  // A pipeline elsewhere is ordered by the stage's name for it, not its CodePipeline name: say which those are.
  const elsewhere = worldTargets(world).filter((target) => target.account && target.definition.name !== target.sequencedAs);
  const namesakes = missing.flatMap((name) => {
    const known = elsewhere.filter((target) => target.definition.name === name);
    if (known.length === 0) return [];
    const where = known.map((target) => `${target.sequencedAs} (account ${target.accountId}, ${target.region})`).join(', ');
    return [`; ${JSON.stringify(name)} is the CodePipeline name of ${where}: an order names a pipeline elsewhere by the stage's name for it`];
  });
  const hint = (pipelines: string) => (inputOption === '--order' ? `give --order with ${pipelines}` : `give ${inputOption} '{"order":[...]}' with ${pipelines}`);
  // With --stage, a name the stage does not allow either is the stage's to fix too: say both at once.
  const allowed = allowedBy(stage);
  const notAllowed = allowed === undefined ? [] : missing.filter((name) => !allowed.includes(name));
  if (allowed !== undefined && notAllowed.length > 0) {
    throw new WorldFileError(
      `${quoted(notAllowed)} ${notAllowed.length === 1 ? 'is' : 'are'} in ${from} but neither allowed by --stage ${stage} (${quoted(allowed)}: its pipelines param in serverless.yml) nor in the world file ${worldName}, which has ${quoted(names)}; add ${notAllowed.length === 1 ? 'it' : 'them'} to both, or ${hint('pipelines both have')}`,
    );
  }
  throw new WorldFileError(
    `${quoted(missing)} ${missing.length === 1 ? 'is' : 'are'} in ${from} but not in the world file ${worldName}, which has ${quoted(names)}${namesakes.join('')}; add ${missing.length === 1 ? 'it' : 'them'} to the world, or ${hint("the world's pipelines")}`,
  );
}

/** The documented --json shape: the planned pipelines, and world executions with the fields users rely on and the variables each was started with. */
function jsonReport(report: RunReport, rows: SummaryRow[]) {
  return {
    status: report.status,
    pipelines: pipelinesJson(rows),
    ...(report.status === 'FAILED' ? { error: report.error, cause: report.cause } : report.status === 'SUCCEEDED' ? { output: report.output } : {}),
    world: {
      executions: report.world.executions.map((execution) => ({
        pipelineName: execution.pipelineName,
        pipelineExecutionId: execution.pipelineExecutionId,
        status: execution.status,
        startedAt: execution.startedAt,
        finishedAt: execution.finishedAt,
        startedBy: execution.startedBy,
        variables: execution.variables,
      })),
    },
    generations: report.generations,
    redrives: report.redrives,
    earlierAttempts: earlierAttemptsJson(report.earlierAttempts),
    functionFailures: report.functionFailures.map((failure) => ({ ...failure, at: new Date(failure.at).toISOString() })),
    // The simulated clock keeps fractions of a millisecond (an event's random delay): a time to the
    // millisecond, as every instant in the document, not `2523.3074689941404`.
    stats: { ...report.stats, simulatedSeconds: Math.round(report.stats.simulatedSeconds * 1000) / 1000 },
  };
}

function readInput(inline: string | undefined, file: string | undefined, option = '--input'): unknown {
  if (inline === undefined && file === undefined) return {};
  const text = file === undefined ? inline! : readInputFile(file);
  return parseJsonInput(text, file === undefined ? option : inputFileLabel(file));
}

export async function emulator(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseOnce({
    args: argv,
    strict: true,
    options: {
      world: { type: 'string' },
      port: { type: 'string' },
      run: { type: 'string' },
      stage: { type: 'string' },
      speed: { type: 'string' },
      completion: { type: 'string' },
      'continue-at': { type: 'string' },
    },
  }, {
    // What `run` takes as --input, the emulator takes as the input of the run it starts.
    input: 'run',
  });
  if (values.world === undefined) throw new UsageError('emulator needs --world FILE');
  const settings = settingsOf(values);
  const port = values.port === undefined ? undefined : typedNumber(values.port);
  if (values.port !== undefined && port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, got '${values.port}'${inDigits(values.port)}`);
  }
  const speed = values.speed === undefined ? 1 : typedNumber(values.speed);
  if (values.speed !== undefined && !(speed > 0)) {
    throw new UsageError(`--speed must be ${speedRule}, got '${values.speed}'${inDigits(values.speed)}`);
  }
  const portProblem = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return new CannotRun(`port ${port} on 127.0.0.1 is already in use; pick another --port, or --port 0 for any free one`);
    if (code === 'EACCES') return new CannotRun(`port ${port} on 127.0.0.1 needs privileges this process lacks; pick a port above 1023`);
    return error;
  };
  const input = values.run === undefined ? undefined : readInput(values.run, undefined, '--run');
  const world = await loadWorld(values.world);
  checkWorldFitsStage(world, fileLabel(values.world), values.stage);
  if (input !== undefined) checkOrderIsInWorld(input, world, fileLabel(values.world), values.stage, '--run');
  const stageName = values.stage ?? 'dev';
  const { serveTrains } = await import('../local/trains.js');
  let service: TrainService;
  try {
    service = await serveTrains({
      world,
      ...(values.stage !== undefined && { stage: values.stage }),
      ...(port !== undefined && { port }),
      speed,
      ...(settings && { settings }),
      ...(input !== undefined && { run: { input, signal } }),
    });
  } catch (error) {
    throw portProblem(error);
  }
  const { endpoint, report, engine } = service;
  output.out(`Step Functions and CodePipeline emulator listening on ${endpoint}`);
  if (report) {
    output.out(
      `Ran ${report.executionName} in simulated time: ${report.status} after ${duration(report.stats.simulatedSeconds)}, ${count(report.stats.executions, 'execution')}, ${count(report.stats.historyEvents, 'history event')}`,
    );
    // Why, at once: a refused input fails in the first second, before status could be asked.
    if (report.status !== 'SUCCEEDED') output.out(`  ${failureLine(report, palette(false))}`);
  }
  output.out(`State machine ${engine.stateMachineArn}: StartExecution runs the train, at ${speed === 1 ? 'wall-clock speed' : `${speed} times wall-clock speed`}`);
  const region = engine.stateMachineArn.split(':')[3]!;
  output.out(`  export AWS_ENDPOINT_URL_CODEPIPELINE=${endpoint} AWS_ENDPOINT_URL_SFN=${endpoint}`);
  if (report) {
    const executionArn = `${executionArnPrefix(engine.stateMachineArn)}${report.executionName}`;
    // A command that runs as written, pasted into any shell in the checkout: the endpoint inline, no
    // registry fetch, and the state machine's region, whatever AWS_REGION the shell has.
    output.out(`  AWS_ENDPOINT_URL_SFN=${endpoint} npx --no sequencer status --stage ${stageName} --region ${region}`);
    output.out(`  aws stepfunctions get-execution-history --endpoint-url ${endpoint} --region ${region} --no-sign-request --execution-arn ${executionArn}`);
  } else {
    output.out(`  AWS_ENDPOINT_URL_SFN=${endpoint} npx --no sequencer start --stage ${stageName} --region ${region} --wait`);
  }
  // The line a script waits for: everything above is served, and so is whatever comes next.
  output.out('ready; Ctrl-C (or SIGTERM) stops it.');
  await untilAborted(signal);
  await service.close();
  // Stopped by a signal, it exits as any command a signal ends: 128 + the signal's number. Under
  // npx that is the exit code whatever we return (the shell between npm and us dies of the
  // signal itself, and npm reports that); run directly, it says the same.
  return 128 + constants.signals[signal.reason as 'SIGINT'];
}

const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
