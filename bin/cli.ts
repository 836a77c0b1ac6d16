import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fileLabel, readCommandLineFile, StageParamsError, UsageError, WorldFileError } from '../local/refusals.js';
import { BadOption, CannotRun, Interrupted, NothingToShow, Refused, SetupProblem } from './errors.js';
import { ProgressPrinter, count, failureLine, offsetFrom, palette, summary, utcTime, type Palette } from './format.js';
import type { EarlierAttempt } from '../local/engine.js';
import type { StatusReport } from './status.js';
import { pipelinesJson } from './summary.js';
import { closestName, fieldPath, tooDeeplyNested } from '../src/field-path.js';
import { maxExecutionInputBytes } from '../src/names.js';
import { oneLine } from '../src/errors.js';

const exitCodes = `Exit codes: 0 succeeded, 1 failed, 2 bad command line or world file, 3 refused by decide-order
(bad input, a pipeline the stage does not allow): nothing started, 130 interrupted (143 on SIGTERM).`;

/** The options every AWS command takes, aligned to its help's column. */
const awsHelp = (column: number) =>
  [
    ['--region R', "The AWS region (default: AWS_REGION, else serverless.yml's us-east-1)"],
    ['--profile P', 'The AWS profile (default: AWS_PROFILE, else the default credential chain)'],
  ]
    .map(([option, text]) => `  ${option!.padEnd(column)}${text}`)
    .join('\n');

/** What every AWS command says about a local emulator. */
const emulatorNote = `Pointed at 'sequencer emulator' (AWS_ENDPOINT_URL_SFN on 127.0.0.1 or localhost) with no
AWS_ACCESS_KEY_ID and no --profile, it signs with dummy credentials, which the emulator ignores.`;

/**
 * The AWS commands' exit codes: never 1 for anything but the train's failure. A command that
 * does not follow the train (stop) never says how it went, nor stops watching; one that never
 * refuses on purpose (status: `refused` undefined) has no 3 to list.
 */
const awsExitCodes = (zero: string, refused: string | undefined, { follows = true } = {}) =>
  [
    'Exit codes:',
    `  0    ${zero}`,
    ...(follows ? ['  1    the train failed, timed out or was stopped'] : []),
    '  2    nothing was done: a bad command line, no such state machine or execution, no region or',
    '       credentials, access denied, an unreachable endpoint, or an unexpected error',
    ...(refused === undefined ? [] : [`  3    refused, nothing was done: ${refused}`]),
    ...(follows ? ['  130  stopped watching by Ctrl-C (143 on SIGTERM); the train goes on'] : []),
  ].join('\n');

const help: Record<string, string> = {
  sequencer: `Usage: sequencer <command> [options]

Commands:
  run        Run the sequencer once, offline, in simulated time
  emulator   Serve the local emulator on its own: StartExecution runs the real train
  status     Show a run's progress and summary, read from Step Functions; --watch follows it
  start      Start a run of a stage's state machine on AWS; --wait follows it to its end
  stop       Stop a stage's running train
  redrive    Redrive a stage's failed train from where it failed
  help       Show this help, or 'sequencer help <command>' a command's
  version    Show the version; --json prints it as JSON

Options:
  -h, --help     Show this help; 'sequencer <command> --help' shows a command's
  -V, --version  Show the version
  Through npx these two are npx's own: write 'npx --no sequencer help' or '... version'

Exit codes: 0 succeeded, 1 failed, 2 bad command line or world file, 3 refused, nothing done (run,
start: decide-order refused the input; start, stop, redrive: a run in flight, nothing to stop or
redrive), 130 interrupted (143 on SIGTERM).`,
  version: `Usage: sequencer version [--json]

Show the sequencer's version; with --json, one JSON document: { "name", "version", "node" },
node being the Node.js that runs the sequencer.

Options:
  --json        Print one JSON document
  -h, --help    Show this help`,
  run: `Usage: sequencer run [--input JSON | --input-file FILE] [--order P1,P2] [--sequence NAME] [--from P] [--dry-run] [--world FILE] [--stage NAME] [--redrive] [--json] [--timestamps] [--completion MODE] [--continue-at N]

Run the sequencer once, offline: the real state machine and handlers against a local
CodePipeline emulator, in simulated time.

Options:
  --input JSON       The execution input (default {}), e.g. '{"order":["P3","P2","P1"]}'
  --input-file FILE  Read the execution input from FILE ('-' for stdin)
  --order P1,P2+P3   The order: pipelines separated by commas, a group joined by +
  --sequence NAME    One of the stage's named sequences
  --from P           Start the order at pipeline P, skipping those before it
  --dry-run          Decide and check the order, start nothing
  --world FILE       The pipelines to emulate (default local/worlds/demo.json; '-' reads stdin)
  --stage NAME       Use this stage's params in serverless.yml (a stage without params of its own
                     gets the default ones, as 'sls deploy --stage NAME' would), and allow only
                     its pipelines; without --stage: the default params, every pipeline of the world
  --completion MODE  events or poll: how a pipeline's end is noticed, in place of the stage's
                     'completion' param (default: the param, events unless the stage says poll)
  --continue-at N    Hand over to a new execution once one more step would bring the history to
                     N events (500 to 24,000; default 24,000), to see a continuation without
                     simulating weeks (local only); the hand-over's own events (about ten) end
                     each execution a few past N
  --redrive          If the run fails, redrive it once, as Step Functions' Redrive would
  --json             Print one JSON document instead of progress lines and a summary
  --timestamps       Show absolute UTC times instead of offsets from the run's start
  -h, --help         Show this help

Environment:
  NO_COLOR, FORCE_COLOR  Colour is on for a terminal or with FORCE_COLOR, never with NO_COLOR
  GITHUB_ACTIONS=true    Progress in a collapsible group, a failure as an ::error:: annotation
  SEQUENCER_LOG_LEVEL    The functions' log level (default SILENT), e.g. INFO or DEBUG; on stderr

${exitCodes}`,
  emulator: `Usage: sequencer emulator --world FILE [--stage NAME] [--run INPUT] [--speed N] [--port N] [--completion MODE] [--continue-at N]

Serve the CodePipeline emulator and Step Functions' API for the stage's state machine
(arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-STAGE; a call signed
for another region finds none, as on AWS), and print the endpoint for
AWS_ENDPOINT_URL_CODEPIPELINE and AWS_ENDPOINT_URL_SFN. StartExecution runs the real train (the
definition and handlers, with every continuation); StopExecution, RedriveExecution,
ListExecutions, DescribeExecution and GetExecutionHistory answer as on AWS: for 'sequencer start',
'status --watch', 'stop' and 'redrive', or the AWS CLI. Time starts at the world's startTime and
runs N times as fast as the wall clock while the handlers wait (they work in no time). The last
line it prints, 'ready; ...', says everything is served. Ctrl-C (or SIGTERM) stops it.

Options:
  --world FILE  The pipelines to emulate ('-' reads stdin)
  --stage NAME  The stage whose state machine (default dev) and params to use: only its pipelines
                are allowed (a stage without params of its own gets the default ones, as 'sls
                deploy' would); without --stage the run uses the default params and every
                pipeline of the world
  --run INPUT   Run one execution with this input first, in simulated time, e.g. '{}'
  --speed N     Simulated seconds per real second, e.g. 60 (default 1: wall time)
  --completion MODE
                events or poll, in place of the stage's 'completion' param
  --continue-at N
                Hand over to a new execution once one more step would bring the history to N
                events (500 to 24,000; default 24,000), to see a continuation without simulating
                weeks (local only); the hand-over's own events (about ten) end each execution a
                few past N
  --port N      The port on 127.0.0.1 (default: any free one)
  -h, --help    Show this help

Exit codes: 2 bad command line, world file, or a port already in use; 130 stopped by Ctrl-C
(143 by SIGTERM), as a signal ends any command, through npx too.`,
  status: `Usage: sequencer status [--stage NAME] [--execution NAME|ARN] [--json] [--timestamps] [--watch [--interval S]] [--region R] [--profile P]

Show a run's progress lines and summary, read from Step Functions (ListStateMachines,
ListExecutions, DescribeExecution, GetExecutionHistory), following a train that continued in
new executions and redrives; how each attempt before a redrive ended is told above the outcome
(--json: earlierAttempts). With --watch, follow it live to its end, printing each progress
line as it happens, and exit by its outcome.
${emulatorNote}

Options:
  --stage NAME            The stage whose state machine to read (default dev)
  --execution NAME|ARN    The execution to show (default: the stage's train, the running one else the last)
  --watch                 Follow the train until it ends
  --interval S            Seconds between looks while watching (default 5, 1 to 3600)
  --json                  Print one JSON document
  --timestamps            Show absolute UTC times instead of offsets from the run's start
${awsHelp(24)}
  -h, --help              Show this help

${awsExitCodes('succeeded (or still running, without --watch)', undefined)}`,
  start: `Usage: sequencer start [--stage NAME] [--input JSON | --input-file FILE] [--order P1,P2] [--sequence NAME] [--from P] [--dry-run] [--name NAME] [--wait [--interval S]] [--json] [--timestamps] [--region R] [--profile P]

Start a run: StartExecution on the stage's state machine. Waits for decide-order's answer (at
most 30 s), then prints the execution ARN, its console link and the order decided; with --wait,
follows it live as 'status --watch' does and exits by its outcome. Refused, with nothing
started, while another run of the state machine is in flight, or when decide-order refuses the
input (a pipeline the stage does not allow, say).
${emulatorNote}

Options:
  --stage NAME        The stage whose state machine to start (default dev)
  --input JSON        The execution input (default {}), e.g. '{"order":["P3","P2","P1"]}'
  --input-file FILE   Read the execution input from FILE ('-' reads stdin)
  --order P1,P2+P3    The order: pipelines separated by commas, a group joined by +
  --sequence NAME     One of the stage's named sequences
  --from P            Start the order at pipeline P, skipping those before it
  --dry-run           Decide and check the order on the stage, start nothing
  --name NAME         The execution's name (default: one Step Functions picks); each name is
                      taken once per state machine
  --wait              Follow the run until it ends
  --interval S        Seconds between looks while waiting (default 5, 1 to 3600)
  --json              Print one JSON document (with --wait, the run's report)
  --timestamps        Show absolute UTC times instead of offsets from the run's start
${awsHelp(20)}
  -h, --help          Show this help

${awsExitCodes('started (with --wait: succeeded)', 'another run is in flight, or decide-order refused the input')}`,
  stop: `Usage: sequencer stop [--stage NAME] [--execution NAME|ARN] [--cause TEXT] [--json] [--region R] [--profile P]

Stop the train's current execution (StopExecution), with a cause. A pipeline in progress goes
on in CodePipeline.
${emulatorNote}

Options:
  --stage NAME          The stage whose running train to stop (default dev)
  --execution NAME|ARN  A train's execution (default: the stage's running one)
  --cause TEXT          Why (default: who stopped it with 'sequencer stop', from where)
  --json                Print one JSON document
${awsHelp(22)}
  -h, --help            Show this help

${awsExitCodes('stopped', 'nothing running to stop', { follows: false })}`,
  redrive: `Usage: sequencer redrive [--stage NAME] [--execution NAME|ARN] [--wait [--interval S]] [--json] [--timestamps] [--region R] [--profile P]

Redrive the train's last execution (RedriveExecution) if it failed, was stopped or timed out:
it goes on from the state where it ended, with the same input. Step Functions allows it within
14 days of the end; past them, this says so.
${emulatorNote}

Options:
  --stage NAME          The stage whose train to redrive (default dev)
  --execution NAME|ARN  A train's execution (default: the stage's train, the running one else the last)
  --wait                Follow the train until it ends
  --interval S          Seconds between looks while waiting (default 5, 1 to 3600)
  --json                Print one JSON document
  --timestamps          Show absolute UTC times instead of offsets from the run's start
${awsHelp(22)}
  -h, --help            Show this help

${awsExitCodes('redriven (with --wait: succeeded)', 'nothing to redrive, past 14 days, or another run in flight')}`,
};

/**
 * Each command loads what it needs when it runs: the local engine for run and emulator, the SDK
 * for the AWS commands, nothing for help, version or an unknown command (a test holds them to it).
 */
const commands: Record<string, (argv: string[], signal: AbortSignal) => Promise<number>> = {
  run: async (argv, signal) => (await import('./local.js')).run(argv, signal),
  emulator: async (argv, signal) => (await import('./local.js')).emulator(argv, signal),
  status: async (argv, signal) => (await import('./control.js')).status(argv, signal),
  start: async (argv, signal) => (await import('./control.js')).start(argv, signal),
  stop: async (argv, signal) => (await import('./control.js')).stop(argv, signal),
  redrive: async (argv, signal) => (await import('./control.js')).redrive(argv, signal),
};

/** Every command a user may type, help and version among them. */
const commandNames = [...Object.keys(commands), 'help', 'version'];

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What the command prints, and whether anyone still reads it (`sequencer run | head -2`). */
export const output = {
  stdoutOpen: true,
  stderrOpen: true,
  /** Lines written to stdout so far: a --json refusal is the document only when nothing came before it. */
  linesOut: 0,
  out(line: string): void {
    this.linesOut += 1;
    if (this.stdoutOpen) process.stdout.write(`${line}\n`);
  },
  err(line: string): void {
    if (this.stderrOpen) process.stderr.write(`${line}\n`);
  },
};

/**
 * The command line as the `sequencer` binary runs it: Ctrl-C and SIGTERM interrupt, a closed
 * pipe stops the output but not the run, and whatever goes wrong is one line, never a stack.
 */
export async function cli(argv: string[]): Promise<void> {
  const controller = new AbortController();
  let interruptedAt = 0;
  const interrupt = (signalName: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => {
    if (!controller.signal.aborted) {
      interruptedAt = Date.now();
      controller.abort(signalName);
      return;
    }
    // A terminal's Ctrl-C reaches the Node-20 wrapper and us alike, and the wrapper forwards its copy.
    if (Date.now() - interruptedAt < 1000) return;
    process.exit(128 + constants.signals[signalName]);
  };
  for (const signalName of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signalName, () => interrupt(signalName));
  // Under npx or npm exec the command runs in a shell, which a SIGTERM to npx ends without passing
  // it on: we would outlive it (an emulator holding its port). When our parent goes, so do we.
  if (process.env.npm_command === 'exec') {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) interrupt('SIGTERM');
    }, 250).unref();
  }
  // Started by the Node-20 wrapper (bin/sequencer.js): when it goes, however it goes, so do we.
  if (process.env.SEQUENCER_WRAPPER_PID !== undefined && process.channel) {
    process.channel.unref();
    process.once('disconnect', () => interrupt('SIGTERM'));
  }
  // The reader went away (EPIPE, then writes to a destroyed stream): stop writing, finish the run.
  process.stdout.on('error', () => {
    output.stdoutOpen = false;
  });
  process.stderr.on('error', () => {
    output.stderrOpen = false;
  });
  const crash = (error: unknown) => {
    output.err(unexpected(error));
    process.exit(2);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const code = await main(argv, controller.signal);
  // Interrupted work (a handler mid-call, a Wait in simulated time) must not hold the process, nor
  // may a command that could not go on (exit 2): an unexpected error may leave something serving.
  // What was written goes out first: a pipe whose reader lags takes the rest of it asynchronously.
  if (controller.signal.aborted || code === 2) {
    await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
    process.exit(code);
  }
  process.exitCode = code;
}

/**
 * How wide the summary table may be: the terminal's width; off a terminal, COLUMNS if the caller
 * sets it (`COLUMNS=80 sequencer run | less`); otherwise unbounded, so a CI log or a file keeps
 * every column.
 */
export function terminalWidth(): number | undefined {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
}

/** What the command says of an error nothing expected: one line, never a stack (the warm test command says the same). */
export const unexpected = (error: unknown) =>
  `sequencer: unexpected ${error instanceof Error ? `${error.name}: ${error.message}`.replace(/\s*\n\s*/g, ' ') : String(error)}`;

export async function main(argv: string[], signal: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  const known = command !== undefined && Object.hasOwn(commands, command);
  try {
    if (command === undefined) throw new UsageError(`no command given; the commands are ${commandNames.join(', ')}`);
    if (['-h', '--help', 'help'].includes(command)) {
      // `help help` is the overview, which says what help does; `help version` is version's own.
      const topic = rest[0] === undefined || ['help', '--help', '-h'].includes(rest[0]) ? 'sequencer' : rest[0];
      if (!Object.hasOwn(help, topic)) throw new UsageError(`no help for '${topic}'; the commands are ${commandNames.join(', ')}`);
      output.out(help[topic]!);
      return 0;
    }
    if (['-V', '--version', 'version'].includes(command)) {
      if (rest.includes('--help') || rest.includes('-h')) {
        output.out(help.version!);
        return 0;
      }
      const [option] = rest.filter((arg) => arg !== '--json');
      if (option !== undefined) throw new UsageError(`version takes no ${option.startsWith('-') ? `option '${option}'` : `argument '${option}'`}; it knows only --json`);
      output.out(rest.includes('--json') ? JSON.stringify({ name: 'codepipeline-sequencer', version, node: process.version }) : `sequencer ${version}`);
      return 0;
    }
    if (!known) {
      const meant = command === undefined ? undefined : closestName(command, commandNames);
      throw new UsageError(`unknown command '${command}'${meant === undefined ? '' : ` (did you mean '${meant}'?)`}; the commands are ${commandNames.join(', ')}`);
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      output.out(help[command]!);
      return 0;
    }
    return await commands[command]!(rest, signal);
  } catch (error) {
    const onGitHub = process.env.GITHUB_ACTIONS === 'true';
    if (onGitHub) annotate(error);
    // On GitHub the annotation tells it in place of the line: the job's log merges both streams.
    const tell = (line: string) => {
      if (!onGitHub) output.err(line);
    };
    if (known && jsonCommands.includes(command) && rest.includes('--json') && output.linesOut === 0) printRefusal(error);
    if (error instanceof UsageError || error instanceof BadOption || isArgumentError(error)) {
      tell(`sequencer: ${oneLine((error as Error).message)}`);
      // `sequencer --help` through npx is npx's own help: `help` is the command's.
      const versionCommand = command !== undefined && ['-V', '--version', 'version'].includes(command);
      output.err(`Run 'sequencer ${known ? `${command} --help` : versionCommand ? 'version --help' : 'help'}' for usage.`);
      return 2;
    }
    if (error instanceof WorldFileError || error instanceof StageParamsError || error instanceof CannotRun || error instanceof NothingToShow || error instanceof SetupProblem) {
      tell(`sequencer: ${oneLine(error.message)}`);
      return 2;
    }
    if (error instanceof Refused) {
      tell(`sequencer: ${oneLine(error.message)}`);
      return 3;
    }
    if (error instanceof Interrupted) {
      tell(`sequencer: ${oneLine(error.message)}`);
      return 128 + (constants.signals[error.signalName] ?? 0);
    }
    // Never 1, which says the train failed: nothing here tells how the train went.
    tell(unexpected(error));
    return 2;
  }
}

/** The commands whose --json stdout is one document, a refusal's too. */
const jsonCommands = ['run', 'status', 'start', 'stop', 'redrive'];

/**
 * A refused command's --json document, so that a CI step that parses stdout reads why, as it
 * reads a failed run's error and cause: `REFUSED`, the kind of refusal (UsageError,
 * WorldFileError, StageParamsError, SetupProblem, Refused), and the line stderr gets. An
 * unexpected error prints none.
 */
function printRefusal(error: unknown): void {
  const kind =
    error instanceof UsageError || isArgumentError(error)
      ? 'UsageError'
      : error instanceof WorldFileError || error instanceof StageParamsError
        ? error.name
        : error instanceof SetupProblem || error instanceof NothingToShow || error instanceof CannotRun
          ? 'SetupProblem'
          : error instanceof Refused
            ? 'Refused'
            : undefined;
  if (kind === undefined) return;
  output.out(JSON.stringify({ status: 'REFUSED', error: kind, cause: oneLine((error as Error).message) }, null, 2));
}

/**
 * On GitHub Actions a command that could not run is an ::error:: annotation too, as a failed run
 * is; on stderr, so a --json stdout stays one document.
 */
function annotate(error: unknown): void {
  const kind =
    error instanceof UsageError || isArgumentError(error)
      ? 'bad command line'
      : error instanceof WorldFileError
        ? 'bad world file'
        : error instanceof StageParamsError
          ? 'bad stage param'
          : 'cannot run';
  const message = error instanceof Error ? oneLine(error.message) : String(error);
  output.err(`::error title=${escapeProperty(`sequencer: ${kind}`)}::${escapeData(message)}`);
}


/**
 * parseArgs, refusing an option with a value given twice: `--input A --input B` would otherwise run B
 * silently, and the user meant one of them.
 */
export function parseOnce<T extends ParseArgsConfig>(config: T, meant: Record<string, string> = {}): ReturnType<typeof parseArgs<T>> {
  let parsed;
  try {
    parsed = parseArgs({ ...config, args: withNegativeValues(config), tokens: true });
  } catch (error) {
    throw withMeant(error, Object.keys(config.options ?? {}), meant);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    // A repeated flag (--json --json) says the same thing twice; a repeated value is a conflict.
    if (token.kind !== 'option' || token.value === undefined) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once; give it once`);
    seen.add(token.name);
  }
  return parsed as ReturnType<typeof parseArgs<T>>;
}

/**
 * `--interval -1` as `--interval=-1`: parseArgs takes a value that starts with a dash for an option
 * of its own, and refuses it in words of its own ("argument is ambiguous"). Given to the option,
 * it meets the option's own rule, which says what the option takes.
 */
function withNegativeValues(config: ParseArgsConfig): string[] | undefined {
  const { args, options = {} } = config;
  if (args === undefined) return undefined;
  const end = args.indexOf('--');
  const joined: string[] = [];
  for (let at = 0; at < args.length; at += 1) {
    const name = /^--([^=]+)$/.exec(args[at]!)?.[1];
    const value = args[at + 1];
    if ((end < 0 || at < end) && name !== undefined && options[name]?.type === 'string' && value !== undefined && /^-\.?\d/.test(value)) {
      joined.push(`--${name}=${value}`);
      at += 1;
    } else joined.push(args[at]!);
  }
  return joined;
}

/**
 * parseArgs' refusal of an unknown option, with the option a typo meant (`--inptu` → `--input`),
 * or the one `meantFor` names for an option of another command (the emulator's `--input` → `--run`).
 */
function withMeant(error: unknown, options: string[], meantFor: Record<string, string>): unknown {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return error;
  const [, dashes, typed] = /^Unknown option '(-{1,2})([^']+)'/.exec((error as Error).message) ?? [];
  const meant = typed === undefined ? undefined : (Object.hasOwn(meantFor, typed) ? meantFor[typed] : undefined) ?? closestName(typed, options);
  if (meant !== undefined) (error as Error).message = `Unknown option '${dashes}${typed}' (did you mean --${meant}?)`;
  return error;
}

/** The input's common fields as options of their own, for `run` and `start`. */
export const shorthandOptions = {
  order: { type: 'string' },
  sequence: { type: 'string' },
  from: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export interface Shorthands {
  order?: string | undefined;
  sequence?: string | undefined;
  from?: string | undefined;
  'dry-run'?: boolean | undefined;
}

/** Each shorthand's field of the input. */
const shorthandFields = { order: 'order', sequence: 'sequence', from: 'from', 'dry-run': 'dryRun' } as const satisfies Record<keyof typeof shorthandOptions, string>;

/**
 * The input with --order, --sequence, --from and --dry-run laid over it; a field given both ways
 * is refused, as the user meant one of them. Without them, the input as it is.
 */
export function withShorthands(input: unknown, values: Shorthands, source: string): unknown {
  const given = (Object.keys(shorthandFields) as (keyof typeof shorthandFields)[]).filter((flag) => values[flag] !== undefined);
  if (given.length === 0) return input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new UsageError(`${source} must be a JSON object to take --${given[0]}, e.g. '{"order":["P1","P2"]}'`);
  const merged: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const flag of given) {
    const field = shorthandFields[flag];
    if (Object.hasOwn(merged, field)) throw new UsageError(`--${flag} and "${field}" in ${source}: give one of them`);
    merged[field] = flag === 'order' ? orderOption(values.order!) : values[flag];
  }
  // An order wins over a sequence (src/order-policy.ts): one named on the command line beside it would be ignored without a word.
  if ((given.includes('order') || given.includes('sequence')) && Object.hasOwn(merged, 'order') && Object.hasOwn(merged, 'sequence')) {
    const where = (field: 'order' | 'sequence') => (given.includes(field) ? `--${field}` : `"${field}" in ${source}`);
    throw new UsageError(`${where('order')} and ${where('sequence')}: an order wins over a sequence, so the sequence would be ignored; give one of them`);
  }
  return merged;
}

/**
 * `--order P1,P2+P3,P4`'s entries: a comma between entries, a plus inside a group (no pipeline name
 * holds either). An empty one is a stray comma or plus, told as such rather than as a name the rules refuse.
 */
function orderOption(value: string): (string | string[])[] {
  const entries = value.split(',').map((entry) => (entry.includes('+') ? entry.split('+') : entry));
  const empty = entries.findIndex((entry) => (typeof entry === 'string' ? entry.trim() === '' : entry.some((name) => name.trim() === '')));
  if (empty >= 0) {
    const entry = entries[empty]!;
    const where = typeof entry === 'string' ? `entry ${empty + 1} is empty (a comma too many?)` : `entry ${empty + 1} has an empty member (a + too many?)`;
    throw new UsageError(`--order '${value}': ${where}; entries are separated by commas, a group's members joined by +, e.g. --order P1,P2+P3,P4`);
  }
  return entries;
}

/** `--input-file FILE` as messages name it. */
export const inputFileLabel = (file: string) => `--input-file ${fileLabel(file)}`;

/** What `--input-file FILE` holds: `-` is stdin, as for most command-line tools (`generate-input | sequencer run --input-file -`). */
export function readInputFile(file: string): string {
  try {
    return readCommandLineFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${inputFileLabel(file)}: ${(error as Error).message}`);
  }
}

/**
 * An input given on the command line, as JSON. A key given twice in one object is refused, as an
 * option given twice is: JSON.parse keeps the last (`{"order":["P1"],"order":["P2"]}` would run P2),
 * and the user meant one of them.
 */
export function parseJsonInput(text: string, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const twice = repeatedKey(text);
  if (twice !== undefined) throw new UsageError(`${source}: ${fieldPath(twice)} is given twice; give it once`);
  return value;
}

/** Where valid JSON text first repeats a key within one object: the path to the second one. */
export function repeatedKey(text: string): PropertyKey[] | undefined {
  // One frame per open object or array: its keys so far and the last (an object), or its index
  // (an array). The open frames are the path itself, so a deep input costs no copies of it.
  const frames: { keys: Set<string> | undefined; key: string; index: number }[] = [];
  const pathTo = (key: string) => [...frames.slice(0, -1).map((frame) => (frame.keys === undefined ? frame.index : frame.key)), key];
  let expectingKey = false;
  for (let at = 0; at < text.length; at += 1) {
    const char = text[at];
    if (char === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = frames.at(-1);
      if (top?.keys !== undefined && expectingKey) {
        const key = JSON.parse(text.slice(at, end + 1)) as string;
        if (top.keys.has(key)) return pathTo(key);
        top.keys.add(key);
        top.key = key;
        expectingKey = false;
      }
      at = end;
    } else if (char === '{' || char === '[') {
      frames.push({ keys: char === '{' ? new Set() : undefined, key: '', index: 0 });
      expectingKey = char === '{';
    } else if (char === '}' || char === ']') {
      frames.pop();
      expectingKey = false;
    } else if (char === ',') {
      const top = frames.at(-1);
      if (top?.keys !== undefined) expectingKey = true;
      else if (top !== undefined) top.index += 1;
    }
  }
  return undefined;
}

/**
 * An execution input Step Functions' StartExecution would refuse for its size (256 KiB of UTF-8):
 * refused here, in one line naming its size, before any call (`run` makes none at all).
 */
export function checkExecutionInputSize(input: unknown, source: string): void {
  // Too deep to write out without overflowing the stack: the input check refuses it by name later.
  if (tooDeeplyNested(input)) return;
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > maxExecutionInputBytes) {
    throw new UsageError(
      `${source} is ${bytes.toLocaleString('en-US')} bytes of JSON; Step Functions takes an execution input of at most ${maxExecutionInputBytes.toLocaleString('en-US')} (256 KiB); nothing was started`,
    );
  }
}

/** One of parseArgs' own refusals (an unknown option, a missing value): a bad command line. */
export const isArgumentError = (error: unknown) =>
  typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');

/**
 * The failure line goes to stderr too, where CI keeps it apart from the progress (unless both
 * streams are the same terminal, which would show it twice). On GitHub Actions, whose log merges
 * both streams, the failure is an annotation instead, told once: after the summary and its FAILED
 * line on stdout, or alone on stderr when stdout is the --json document.
 */
export function reportFailure(report: Parameters<typeof failureLine>[0], json: boolean, onGitHub: boolean): void {
  if (onGitHub) {
    const annotation = `::error title=${escapeProperty(`sequencer: ${report.error ?? report.status}`)}::${escapeData(report.cause ?? '')}`;
    if (json) output.err(annotation);
    else output.out(annotation);
    return;
  }
  if (!(process.stdout.isTTY && process.stderr.isTTY) || json) output.err(`sequencer: ${failureLine(report, palette(false))}`);
}

// GitHub's workflow command escaping (toolkit's command.ts): data, and property values.
const escapeData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (text: string) => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** What `status` prints: a header, the progress lines, the summary; the same as a local run's. */
export function statusLines(report: StatusReport, colours: Palette, timestamps: boolean, onGitHub = false): string[] {
  const lines: string[] = [];
  const time = timestamps ? utcTime : offsetFrom(report.startedAt);
  const generations = report.generations.length > 1 ? ` (${count(report.generations.length, 'execution')})` : '';
  const header = `codepipeline-sequencer · status · ${report.executionName}${generations} · ${report.stateMachineArn} · started ${utcTime(report.startedAt)}`;
  // On GitHub Actions the progress folds into a group, as a local run's does.
  lines.push(onGitHub ? `::group::${header}` : colours.dim(header));
  const printer = new ProgressPrinter((line) => lines.push(line), colours, time);
  for (const event of report.events) printer.on(event);
  if (onGitHub) lines.push('::endgroup::');
  lines.push(...awsSummary(report, colours, time));
  return lines;
}

/**
 * The summary of a run read from Step Functions. A scheduled start skipped for a run in flight
 * ends SUCCEEDED with nothing started, which the local summary's outcome line would call a dry
 * run: that line says it was skipped instead, naming the run in flight and when the schedule fired.
 */
export function awsSummary(report: StatusReport, colours: Palette, time: (ms: number) => string): string[] {
  const lines = summary(report, report.rows, colours, time, { clock: 'real', width: terminalWidth() });
  if (report.skipped === undefined) return lines;
  return [...lines.slice(0, -1), `${colours.green('SUCCEEDED')}  ${report.skipped}`];
}

/** How each attempt before a redrive ended, for a --json document: its times in ISO 8601. */
export const earlierAttemptsJson = (attempts: EarlierAttempt[]) =>
  attempts.map((attempt) => ({ ...attempt, endedAt: new Date(attempt.endedAt).toISOString(), redrivenAt: new Date(attempt.redrivenAt).toISOString() }));

/**
 * `status --json`: the fields of `run --json` that mean something for a run on AWS. No `world`
 * (there is no emulated world, and each row of `pipelines` already names the execution watched)
 * and no `simulatedSeconds`: the time is real, `stats.elapsedSeconds`.
 */
export function statusJson(report: StatusReport) {
  const { simulatedSeconds, ...counts } = report.stats;
  return {
    status: report.status,
    executionName: report.executionName,
    stateMachineArn: report.stateMachineArn,
    pipelines: pipelinesJson(report.rows),
    // A stop has a cause (who stopped it and why), and most often no error.
    ...((report.error !== undefined || report.status === 'ABORTED') && { error: report.error, cause: report.cause }),
    ...(report.status === 'SUCCEEDED' && { output: report.output }),
    ...(report.skipped !== undefined && { skipped: report.skipped }),
    generations: report.generations,
    redrives: report.redrives,
    earlierAttempts: earlierAttemptsJson(report.earlierAttempts),
    stats: { ...counts, elapsedSeconds: simulatedSeconds },
  };
}
