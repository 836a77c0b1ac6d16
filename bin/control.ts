import { constants, hostname, userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { RunEvent } from '../local/engine.js';
import { loadDefinition } from '../local/definition.js';
import { inDigits, typedNumber, UsageError } from '../local/refusals.js';
import { executionArnPrefix } from '../src/continuation.js';
import { InvalidInput } from '../src/errors.js';
import { executionInputSchema } from '../src/input.js';
import { parseOrThrow } from '../src/parse.js';
import { checkGivenOrder } from '../src/order-checks.js';
import { checkExecutionName, checkExecutionOption, consoleLink, isTransient, setupProblemOf, sfnClient, stageStateMachine, stageStateMachineName, targetOf, type Target } from './aws.js';
import { awsSummary, checkExecutionInputSize, inputFileLabel, output, parseJsonInput, parseOnce, readInputFile, reportFailure, shorthandOptions, statusJson, statusLines, withShorthands, type Shorthands } from './cli.js';
import { BadOption, Interrupted, Refused, SetupProblem } from './errors.js';
import { colourWanted, offsetFrom, palette, ProgressPrinter, utcTime } from './format.js';
import { continuedAs, foldTrain, objectOf, readExecution, readStatus, readTrain, refusedStart, retriersOf, runningOf, runningTrain, stageTrain, type ExecutionRead, type StatusReport } from './status.js';
import { defaultWatchIntervalSeconds, followTrain, isThrottling, maximumWatchIntervalSeconds, minimumWatchIntervalSeconds, patiently } from './watch.js';

/**
 * The commands that act on a stage's state machine on AWS (or on `sequencer emulator`, through
 * AWS_ENDPOINT_URL_SFN): status, start, stop, redrive. Every one takes --region and --profile;
 * a problem with either, or with AWS, is exit 2, never 1 (which is the train's failure).
 */

const awsOptions = {
  stage: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
} as const;

const watchOptions = {
  json: { type: 'boolean', default: false },
  timestamps: { type: 'boolean', default: false },
  interval: { type: 'string' },
} as const;

/**
 * Runs `act` with a Step Functions client for the command's target, turning AWS's refusals into
 * one line each. `readOnly`: the command only reads (status), so an interrupted call changed nothing.
 */
async function withStepFunctions<T>(
  values: { region?: string | undefined; profile?: string | undefined; stage?: string | undefined },
  executionOption: string | undefined,
  signal: AbortSignal,
  act: (client: SFNClient, target: Target, execution: ReturnType<typeof checkExecutionOption>) => Promise<T>,
  { readOnly = false } = {},
): Promise<T> {
  const execution = checkExecutionOption(executionOption);
  if (execution.region !== undefined && values.region !== undefined && execution.region !== values.region) {
    throw new BadOption(`--execution is in region ${execution.region}, but --region says ${values.region}; give one of them`);
  }
  // An ARN names its state machine, and so its stage: another stage's run is never acted on unasked.
  if (execution.stateMachineName !== undefined && values.stage !== undefined && execution.stateMachineName !== stageStateMachineName(values.stage)) {
    throw new BadOption(`--execution is a run of ${execution.stateMachineName}, but --stage ${values.stage} is ${stageStateMachineName(values.stage)}; give one of them`);
  }
  const target = targetOf({ region: values.region ?? execution.region, profile: values.profile }, process.env);
  const client = sfnClient(target, signal);
  try {
    return await act(client, target, execution);
  } catch (error) {
    if (signal.aborted) {
      const asked = readOnly ? '' : `; what was asked may still happen: 'npx --no sequencer status ${whereFlags(values.stage ?? 'dev', values)}' shows the train`;
      throw new Interrupted(`interrupted (${String(signal.reason)}) before ${target.endpoint ?? `Step Functions in ${target.region}`} answered${asked}`, signal.reason as NodeJS.Signals);
    }
    throw setupProblemOf(error, target) ?? error;
  } finally {
    client.destroy();
  }
}

/** The state machine to act on: the one an execution ARN names, or the stage's. */
async function stateMachineOf(client: SFNClient, target: Target, stage: string, execution: { arn?: string }): Promise<string> {
  if (execution.arn !== undefined) return execution.arn.replace(':execution:', ':stateMachine:').replace(/:[^:]*$/, '');
  return stageStateMachine(client, target, stage);
}

/** The ARN --execution names, or the stage's train's: its running one, else its last (never a start that was refused). */
async function executionOf(
  client: SFNClient,
  stateMachineArn: string,
  execution: { arn?: string; name?: string },
  none = (message: string): Error => new SetupProblem(message),
): Promise<string> {
  if (execution.arn !== undefined) return execution.arn;
  if (execution.name !== undefined) return `${executionArnPrefix(stateMachineArn)}${execution.name}`;
  return stageTrain(client, stateMachineArn, none);
}

/** The execution a train is in now: from `executionArn`, through each continuation it handed over to. */
async function currentExecution(client: SFNClient, executionArn: string): Promise<{ arn: string; described: DescribeExecutionCommandOutput }> {
  let arn = executionArn;
  for (let hops = 0; ; hops += 1) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
    const next = continuedAs({ name: described.name!, arn, described, history: [] } satisfies ExecutionRead);
    if (next === undefined || hops > 1000) return { arn, described };
    arn = next;
  }
}

const describeRunning = (executions: ExecutionListItem[]) =>
  executions.map((execution) => `${execution.name} (started ${execution.startDate?.toISOString() ?? 'at an unknown time'}, ${execution.executionArn})`).join(', ');

function intervalOf(value: string | undefined): number {
  if (value === undefined) return defaultWatchIntervalSeconds;
  const seconds = typedNumber(value);
  if (!(seconds >= minimumWatchIntervalSeconds && seconds <= maximumWatchIntervalSeconds)) {
    throw new UsageError(`--interval must be a number of seconds from ${minimumWatchIntervalSeconds} to ${maximumWatchIntervalSeconds}, got '${value}'${inDigits(value)}`);
  }
  return seconds;
}

/** Ctrl-C or SIGTERM ended a watch: the train goes on, and how to stop it. */
function stoppedWatching(values: { stage: string; region?: string | undefined; profile?: string | undefined }, signal: AbortSignal): number {
  output.err(`sequencer: stopped watching (${String(signal.reason)}); the train goes on. 'npx --no sequencer stop ${whereFlags(values.stage, values)}' stops it.`);
  return 128 + constants.signals[signal.reason as 'SIGINT'];
}

/** The flags that say where to look, for a hint that runs as written. */
const whereFlags = (stage: string, values: { region?: string | undefined; profile?: string | undefined }) =>
  [`--stage ${stage}`, ...(values.region ? [`--region ${values.region}`] : []), ...(values.profile ? [`--profile ${values.profile}`] : [])].join(' ');

/**
 * A `sequencer start` that a shell runs as written, for the input an execution was started with:
 * from `from` if given, and never skipped for a run in flight as the schedule's start may be
 * (a run started by hand is refused instead, and says so).
 */
function startCommand(stage: string, values: { region?: string | undefined; profile?: string | undefined }, inputText: string | undefined, from?: string): string {
  const input = objectOf(inputText);
  delete input.scheduled;
  if (from !== undefined) delete input.from;
  const json = JSON.stringify(input);
  return [
    `npx --no sequencer start ${whereFlags(stage, values)}`,
    ...(json === '{}' ? [] : [`--input '${json.replaceAll("'", "'\\''")}'`]),
    ...(from === undefined ? [] : [`--from ${from}`]),
  ].join(' ');
}

/** The order a train's summary rows tell: one name per position, or the group's names. */
function decidedOrder(rows: { position: number; pipelineName: string; groupSize?: number }[]): (string | string[])[] {
  const byPosition = new Map<number, string[]>();
  for (const row of rows) byPosition.set(row.position, [...(byPosition.get(row.position) ?? []), row.pipelineName]);
  return [...byPosition.entries()].sort(([one], [other]) => one - other).map(([, names]) => (names.length === 1 && rows.find((row) => row.pipelineName === names[0])?.groupSize === undefined ? names[0]! : names));
}

/** `sequencer status`: a snapshot, or with --watch, the train followed live to its end. */
export async function status(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseOnce({
    args: argv,
    strict: true,
    options: { ...awsOptions, ...watchOptions, execution: { type: 'string' }, watch: { type: 'boolean', default: false } },
  });
  const interval = intervalOf(values.interval);
  if (values.interval !== undefined && !values.watch) throw new UsageError('--interval goes with --watch');
  const stage = values.stage ?? 'dev';
  return withStepFunctions(values, values.execution, signal, async (client, target, execution) => {
    const stateMachineArn = await stateMachineOf(client, target, stage, execution);
    // Followed, a busy Step Functions delays the watch, finding the train included, and never ends it.
    const executionArn = values.watch ? await patiently(() => executionOf(client, stateMachineArn, execution), signal, interval) : await executionOf(client, stateMachineArn, execution);
    if (executionArn === undefined) return stoppedWatching({ ...values, stage }, signal);
    if (values.watch) return watch(client, target, stateMachineArn, executionArn, { ...values, interval, stage }, signal);
    const report = await readStatus(client, stateMachineArn, executionArn, retriersOf(loadDefinition()));
    const onGitHub = process.env.GITHUB_ACTIONS === 'true';
    const colours = palette(colourWanted(process.env, Boolean(process.stdout.isTTY)));
    const lines = values.json ? [JSON.stringify(statusJson(report), null, 2)] : statusLines(report, colours, values.timestamps, onGitHub);
    for (const line of lines) output.out(line);
    if (endedBadly.has(report.status)) reportFailure(report, values.json, onGitHub);
    return ['SUCCEEDED', 'RUNNING'].includes(report.status) ? 0 : 1;
  }, { readOnly: true });
}

/**
 * Follows the train live and prints what a local run prints: a header, each progress line as
 * it is read, the summary; with --json, only the final document. Exits by the outcome, as
 * `run` does; interrupted, it stops watching (the train goes on) and says how to stop the train.
 */
async function watch(
  client: SFNClient,
  target: Target,
  stateMachineArn: string,
  executionArn: string,
  values: { json: boolean; timestamps: boolean; interval: number; stage: string; region?: string | undefined; profile?: string | undefined },
  signal: AbortSignal,
  redriveCount?: number,
): Promise<number> {
  const onGitHub = process.env.GITHUB_ACTIONS === 'true';
  const colours = palette(colourWanted(process.env, Boolean(process.stdout.isTTY)));
  let time = utcTime;
  let printer: ProgressPrinter | undefined;
  const report = await followTrain(client, executionArn, {
    stateMachineArn,
    retriers: retriersOf(loadDefinition()),
    intervalSeconds: values.interval,
    signal,
    ...(redriveCount !== undefined && { redriveCount }),
    onStart: (first) => {
      if (values.json) return;
      const startedAt = first.described.startDate!.getTime();
      time = values.timestamps ? utcTime : offsetFrom(startedAt);
      const header = `codepipeline-sequencer · watching · ${first.name} · ${stateMachineArn} · started ${utcTime(startedAt)}`;
      output.out(onGitHub ? `::group::${header}` : colours.dim(header));
      printer = new ProgressPrinter((line) => output.out(line), colours, time);
    },
    onEvent: (event) => printer?.on(event),
    onRetry: (error, retryInSeconds, givingUpAt) => {
      const why = setupProblemOf(error, target)?.message ?? `${target.endpoint ?? `Step Functions in ${target.region}`} answered ${(error as Error).name}: ${(error as Error).message}`;
      // setupProblemOf's sentences end in '?' or '.'; a service's own message may end in neither.
      const sentence = /[.?!]$/.test(why) ? why : `${why}.`;
      output.err(`sequencer: ${sentence} Looking again in ${retryInSeconds} s (giving up at ${utcTime(givingUpAt)}); the train goes on.`);
    },
  });
  if (!report) {
    if (!values.json && onGitHub) output.out('::endgroup::');
    return stoppedWatching(values, signal);
  }
  return finish(report, values.json, onGitHub, time);
}

/** How a train can end that a CI job must be told why on stderr (or in an annotation): a stop too, with who stopped it and why. */
const endedBadly = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/** The summary (or the JSON document), the failure line, and the exit code of a train that ended. */
function finish(report: StatusReport, json: boolean, onGitHub: boolean, time: (ms: number) => string): number {
  const colours = palette(colourWanted(process.env, Boolean(process.stdout.isTTY)));
  if (json) {
    output.out(JSON.stringify(statusJson(report), null, 2));
  } else {
    if (onGitHub) output.out('::endgroup::');
    for (const line of awsSummary(report, colours, time)) output.out(line);
  }
  if (endedBadly.has(report.status)) reportFailure(report, json, onGitHub);
  return report.status === 'SUCCEEDED' ? 0 : 1;
}

/** `sequencer start`: StartExecution on the stage's state machine; with --wait, followed to its end. */
export async function start(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseOnce({
    args: argv,
    strict: true,
    options: {
      ...awsOptions,
      ...watchOptions,
      input: { type: 'string' },
      'input-file': { type: 'string' },
      ...shorthandOptions,
      name: { type: 'string' },
      wait: { type: 'boolean', default: false },
    },
  });
  if (values.interval !== undefined && !values.wait) throw new UsageError('--interval goes with --wait');
  const interval = intervalOf(values.interval);
  const input = startInput(values);
  const name = values.name === undefined ? undefined : checkExecutionName('--name', values.name);
  const stage = values.stage ?? 'dev';
  return withStepFunctions(values, undefined, signal, async (client, target) => {
    const stateMachineArn = await stageStateMachine(client, target, stage);
    // Step Functions would start it, and decide-order fail it with AlreadyRunning: say so first.
    const running = await runningOf(client, stateMachineArn);
    if (running.length > 0) {
      throw new Refused(
        `AlreadyRunning: ${describeRunning(running)} is in flight on ${stateMachineArn.split(':').at(-1)}; nothing was started. ` +
          `Follow it with 'npx --no sequencer status ${whereFlags(stage, values)} --watch', or stop it with 'npx --no sequencer stop ${whereFlags(stage, values)}'.`,
      );
    }
    const started = await client
      .send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), ...(name !== undefined && { name }) }))
      .catch((error: unknown) => {
        // A retried CI job's second start under the same --name: the run it names is there to see.
        if (!(error instanceof Error && error.name === 'ExecutionAlreadyExists')) throw error;
        throw new Refused(
          `an execution named ${name ?? '(none)'} already exists on ${stateMachineArn.split(':').at(-1)}: Step Functions takes a name again only for the same input while that run is in flight, ` +
            `and refuses it for 90 days after its end; nothing was started. See it with 'npx --no sequencer status ${whereFlags(stage, values)} --execution ${name ?? ''}', or give another --name.`,
        );
      });
    const executionArn = started.executionArn!;
    const executionName = executionArn.split(':').at(-1)!;
    const link = consoleLink(target.region, executionArn);
    const tellStarted = () => {
      output.out(`Started ${executionName} on ${stateMachineArn.split(':').at(-1)} (${target.region})`);
      output.out(`  ${executionArn}`);
      output.out(`  ${link}`);
    };
    // A start is told only once DecideOrder has decided or refused: a refusal (a pipeline not
    // allowed, not found) fails the execution at once, and 'Started' would hide it. Followed
    // (--wait) too: a refusal is exit 3, nothing started, never a train that failed (exit 1).
    const decision = await awaitDecision(client, stateMachineArn, executionArn, signal);
    if (decision.refused !== undefined) {
      throw new Refused(`${executionName} ${decision.refused}; no pipeline was started. See it with 'npx --no sequencer status ${whereFlags(stage, values)} --execution ${executionName}'.`);
    }
    if (values.wait) {
      if (!values.json) tellStarted();
      return watch(client, target, stateMachineArn, executionArn, { ...values, interval, stage }, signal);
    }
    const plan = (decision.decided?.output as { plan?: { order?: unknown; dryRun?: unknown } } | undefined)?.plan;
    // A dry run's execution decides and checks the order, then ends: nothing will run, and a script must be able to tell.
    const dryRun = plan?.dryRun === true;
    if (values.json) {
      output.out(
        JSON.stringify(
          { executionArn, executionName, stateMachineArn, startDate: started.startDate?.toISOString(), console: link, ...(plan?.order !== undefined && { order: plan.order }), ...(dryRun && { dryRun }) },
          null,
          2,
        ),
      );
      return 0;
    }
    tellStarted();
    if (decision.decided !== undefined) {
      const printer = new ProgressPrinter((line) => output.out(`  ${line.trimStart()}`), palette(colourWanted(process.env, Boolean(process.stdout.isTTY))), utcTime);
      printer.on(decision.decided);
    } else {
      output.out(`  the order is not decided yet (${decision.unanswered ?? 'no answer'})`);
    }
    output.out(
      dryRun
        ? `  a dry run: the order is decided and checked, and no pipeline starts; see it with npx --no sequencer status ${whereFlags(stage, values)} --execution ${executionName}`
        : `  follow it: npx --no sequencer status ${whereFlags(stage, values)} --execution ${executionName} --watch`,
    );
    return 0;
  });
}

type DecidedEvent = Extract<RunEvent, { type: 'decided' }>;

/** How long `start` waits for DecideOrder to decide or refuse, looking once a second: its function's timeout. */
const decisionWaitSeconds = 30;

/**
 * DecideOrder's answer to a start just made: the order it decided (the progress event), or why
 * the execution ended without starting anything (`refusedStart`); neither, if it is still at
 * work after `decisionWaitSeconds` (retrying AWS, say) or the wait was interrupted.
 */
async function awaitDecision(
  client: SFNClient,
  stateMachineArn: string,
  executionArn: string,
  signal: AbortSignal,
): Promise<{ decided?: DecidedEvent; refused?: string; unanswered?: string }> {
  const retriers = retriersOf(loadDefinition());
  for (let look = 0; look <= decisionWaitSeconds; look += 1) {
    try {
      const read = await readExecution(client, executionArn);
      const decided = foldTrain([read], stateMachineArn, retriers).events.find((event): event is DecidedEvent => event.type === 'decided');
      if (decided !== undefined) return { decided };
      if (read.described.status !== 'RUNNING') {
        const refused = await refusedStart(client, executionArn, read.described, read.history);
        return refused !== undefined ? { refused } : { unanswered: `the execution ended ${read.described.status ?? 'UNKNOWN'} before decide-order answered` };
      }
    } catch (error) {
      // Ctrl-C ends the look in flight too (sfnClient): the run is started, only the waiting stops.
      if (signal.aborted) return { unanswered: 'stopped waiting' };
      // The run is started: a busy Step Functions ends the waiting, never the command.
      if (isThrottling(error) || isTransient(error)) return { unanswered: `Step Functions answered ${(error as Error).name}` };
      throw error;
    }
    // Ctrl-C stops the waiting, never the run.
    const waited = await sleep(1000, true, { signal }).catch(() => false);
    if (!waited) return { unanswered: 'stopped waiting' };
  }
  return { unanswered: `decide-order is still at work after ${decisionWaitSeconds} s` };
}

/** The execution input from --input or --input-file (`-` is stdin), with --order, --sequence, --from and --dry-run laid over it. */
function startInput(values: { input?: string | undefined; 'input-file'?: string | undefined } & Shorthands) {
  const file = values['input-file'];
  if (values.input !== undefined && file !== undefined) throw new UsageError('give the input once: one --input or one --input-file');
  let text = values.input;
  let source = '--input';
  if (file !== undefined) {
    source = inputFileLabel(file);
    text = readInputFile(file);
  }
  const input = text === undefined ? {} : parseJsonInput(text, source);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new UsageError(`${source} must be a JSON object, e.g. '{"order":["P1","P2"]}'`);
  const merged = withShorthands(input, values, source);
  try {
    checkExecutionInputSize(merged, source);
    const input = parseOrThrow(executionInputSchema, merged, 'input');
    checkGivenOrder(input);
    return input;
  } catch (error) {
    // The sequencer's own refusal, word for word, before anything is started.
    if (error instanceof InvalidInput) {
      // After numbered problems, '; nothing was started' would read as part of the last one.
      const several = /^(\d+ problems): /.exec(error.message);
      throw new UsageError(`InvalidInput: ${several ? `${several[1]}, nothing was started: ${error.message.slice(several[0].length)}` : `${error.message}; nothing was started`}`);
    }
    throw error;
  }
}

/** StopExecution's limit on `cause` (API reference): checked before the call, as every option is. */
const maxStopCauseLength = 32_768;

/** `sequencer stop`: StopExecution on the train's current execution, with a cause. */
export async function stop(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseOnce({
    args: argv,
    strict: true,
    options: { ...awsOptions, execution: { type: 'string' }, cause: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const stage = values.stage ?? 'dev';
  const cause = values.cause ?? `stopped with 'sequencer stop' by ${userInfo().username}@${hostname()}`;
  if (cause.length > maxStopCauseLength) {
    throw new BadOption(`--cause is ${cause.length.toLocaleString('en-US')} characters; Step Functions keeps at most ${maxStopCauseLength.toLocaleString('en-US')}`);
  }
  return withStepFunctions(values, values.execution, signal, async (client, target, execution) => {
    const stateMachineArn = await stateMachineOf(client, target, stage, execution);
    let current: { arn: string; described: { name?: string; status?: string } };
    if (execution.arn !== undefined || execution.name !== undefined) {
      current = await currentExecution(client, await executionOf(client, stateMachineArn, execution));
    } else {
      const newest = runningTrain(await runningOf(client, stateMachineArn));
      if (!newest) throw new Refused(`nothing to stop: no execution of ${stateMachineArn.split(':').at(-1)} is running in ${target.region}`);
      current = { arn: newest.executionArn!, described: newest };
    }
    if (current.described.status !== 'RUNNING') throw new Refused(`nothing to stop: ${current.described.name} ended ${current.described.status}`);
    const { stopDate } = await client.send(new StopExecutionCommand({ executionArn: current.arn, cause }));
    if (values.json) {
      output.out(JSON.stringify({ executionArn: current.arn, executionName: current.described.name, stopDate: stopDate?.toISOString(), cause }, null, 2));
    } else {
      output.out(`Stopped ${current.described.name} at ${stopDate ? utcTime(stopDate.getTime()) : 'once Step Functions gets to it'}: ${cause}`);
      output.out(`  ${current.arn}`);
      output.out('  A pipeline in progress goes on in CodePipeline; stop it there if it must stop.');
    }
    return 0;
  });
}

const redrivableDays = 14;

/** DecideOrder's refusals of the input itself: started again as it was, it would be refused again. */
const inputRefusals = new Set(['InvalidInput', 'PipelineNotAllowed', 'PipelineNotFound']);

/** `sequencer redrive`: RedriveExecution on the train's last execution, if it failed; with --wait, followed to its end. */
export async function redrive(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseOnce({
    args: argv,
    strict: true,
    options: { ...awsOptions, ...watchOptions, execution: { type: 'string' }, wait: { type: 'boolean', default: false } },
  });
  if (values.interval !== undefined && !values.wait) throw new UsageError('--interval goes with --wait');
  const interval = intervalOf(values.interval);
  const stage = values.stage ?? 'dev';
  return withStepFunctions(values, values.execution, signal, async (client, target, execution) => {
    const stateMachineArn = await stateMachineOf(client, target, stage, execution);
    // Nothing to redrive is a refusal (exit 3), as a run that succeeded is.
    const latest = await executionOf(client, stateMachineArn, execution, (message) => new Refused(`nothing to redrive: ${message}`));
    const { arn, described } = await currentExecution(client, latest);
    const name = described.name!;
    const refused = await refusedStart(client, arn, described);
    if (refused !== undefined) {
      // Refused for what it asked (a typo, a pipeline the stage does not allow): the same input would be refused again.
      const again = inputRefusals.has(described.error ?? '')
        ? 'Fix what its cause names in its input, then start a run with it'
        : `To run what it asked for, start a run: ${startCommand(stage, values, described.input)}`;
      throw new Refused(`nothing to redrive: ${name} was a start that started nothing (${refused}); a redrive would only try that start again. ${again}`);
    }
    if (described.status === 'RUNNING' || described.status === 'SUCCEEDED') {
      throw new Refused(`nothing to redrive: ${name}, the train's ${described.status === 'RUNNING' ? 'current execution, is still running' : 'last execution, succeeded'}`);
    }
    const tooOld = async (reason: string | undefined) => {
      const ended = described.stopDate;
      const past = ended !== undefined && Date.now() - ended.getTime() > redrivableDays * 86_400_000;
      if (!/period|expired/i.test(reason ?? '') && !past) return undefined;
      // The train as it began (its first execution's input) and the pipeline it ended on: a new run that picks up there.
      const train = await readTrain(client, arn);
      const { rows } = foldTrain(train, stateMachineArn, retriersOf(loadDefinition()));
      const unfinished = rows.find((row) => row.status !== 'Succeeded' && row.status !== 'Skipped');
      // The order the train ran, as decided then: its sequence, or a policy of the day, may give another today.
      const input: Record<string, unknown> = { ...objectOf(train[0]!.described.input), ...(rows.length > 0 && { order: decidedOrder(rows) }) };
      delete input.sequence;
      return new Refused(
        `${name} ended ${described.status}${ended ? ` on ${utcTime(ended.getTime())}` : ''}, more than ${redrivableDays} days ago: Step Functions redrives an execution only within ${redrivableDays} days of its end (${reason ?? 'redrivable period exceeded'}). ` +
          `Start a new run instead, ${unfinished ? `from ${unfinished.pipelineName}, where it ended` : 'with the same input'}: ${startCommand(stage, values, JSON.stringify(input), unfinished?.pipelineName)}`,
      );
    };
    if (described.redriveStatus === 'NOT_REDRIVABLE') {
      throw (await tooOld(described.redriveStatusReason)) ?? new Refused(`${name} cannot be redriven: ${described.redriveStatusReason ?? 'Step Functions says it is not redrivable'}`);
    }
    const others = (await runningOf(client, stateMachineArn)).filter((running) => running.executionArn !== arn);
    if (others.length > 0) {
      throw new Refused(`AlreadyRunning: ${describeRunning(others)} is in flight; a redrive of ${name} would not go on beside it. Let it end, or stop it with 'npx --no sequencer stop ${whereFlags(stage, values)}'.`);
    }
    let redriveDate: Date | undefined;
    try {
      ({ redriveDate } = await client.send(new RedriveExecutionCommand({ executionArn: arn })));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ExecutionNotRedrivable') throw error;
      const reason = (error as Error).message;
      throw (await tooOld(reason)) ?? new Refused(`${name} cannot be redriven: ${reason}`);
    }
    if (!values.json) {
      output.out(`Redriven ${name} at ${redriveDate ? utcTime(redriveDate.getTime()) : 'once Step Functions gets to it'} (redrive ${(described.redriveCount ?? 0) + 1}): it goes on from where it ended`);
      output.out(`  ${arn}`);
      output.out(`  ${consoleLink(target.region, arn)}`);
      if (!values.wait) output.out(`  follow it: npx --no sequencer status ${whereFlags(stage, values)} --execution ${name} --watch`);
    } else if (!values.wait) {
      output.out(JSON.stringify({ executionArn: arn, executionName: name, redriveDate: redriveDate?.toISOString(), redriveCount: (described.redriveCount ?? 0) + 1 }, null, 2));
    }
    if (!values.wait) return 0;
    return watch(client, target, stateMachineArn, arn, { ...values, interval, stage }, signal, (described.redriveCount ?? 0) + 1);
  });
}
