import type { EarlierAttempt, FunctionFailure, RetryDetail, RunEvent, RunReport } from '../local/engine.js';
import { retryBackoffSeconds } from '../local/retry-backoff.js';
import { duration, timesOf } from '../src/duration.js';
import { oneLine } from '../src/errors.js';
import { continueAtEvents } from '../src/history-budget.js';
import type { Member, Plan, PipelineResult, Run } from '../src/run.js';
import { executionCell, positionCell, reasonCell, type Outcome, type SummaryRow } from './summary.js';

/**
 * Colour for a person at a terminal, or when FORCE_COLOR asks for it (CI logs that render it);
 * never when NO_COLOR is set to anything (no-color.org), which wins over both.
 */
export function colourWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !['0', 'false'].includes(force.toLowerCase());
  return isTTY;
}

export function palette(enabled: boolean) {
  const paint = (code: number) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { dim: paint(2), bold: paint(1), green: paint(32), red: paint(31), yellow: paint(33) };
}

export type Palette = ReturnType<typeof palette>;

/**
 * `12,345`, as toLocaleString('en-US') writes a whole number, without Intl: a run's summary was
 * the command's first use of Intl, whose start-up (ICU's data) cost 30 ms of every `run`.
 */
export const grouped = (amount: number) => String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
/** `1 state transition`, `4,614 state transitions`: grouped by thousands, as the README writes them. */
export const count = (amount: number, noun: string) => `${grouped(amount)} ${noun}${amount === 1 ? '' : 's'}`;

/** How a line or a table cell shows an instant of simulated time (epoch milliseconds). */
export type TimeFormat = (ms: number) => string;

/** `--timestamps`: absolute UTC, to the second: `2026-01-01T09:10:06Z`. */
export const utcTime: TimeFormat = (ms) => new Date(Math.round(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The default: an offset from the run's start. */
export const offsetFrom =
  (runStartMs: number): TimeFormat =>
  (ms) =>
    offset(ms - runStartMs);

/** Simulated time as an offset from the run's start: `+0:10:02`, `+2d 03:00:00`. */
export function offset(ms: number): string {
  const total = Math.round(ms / 1000);
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const clock = `${days > 0 ? String(hours).padStart(2, '0') : hours}:${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}`;
  return days > 0 ? `+${days}d ${clock}` : `+${clock}`;
}

/** `, member 2 of a group of 3` for a member of a group; nothing for a lone pipeline. */
const memberOfGroup = (member: Member, groupSize: number): string => (groupSize > 1 ? `, member ${member.member + 1} of a group of ${groupSize}` : '');

const statusColour = (colours: Palette, status: string) =>
  status === 'Succeeded' ? colours.green(status) : ['InProgress', 'Stopping'].includes(status) ? colours.yellow(status) : colours.red(status);

/**
 * Turns the functions' progress into one line per step. "Still in progress" lines come at
 * doubling intervals (5 min, 10, 20, ...), so a seven-day approval prints a dozen, not a thousand.
 */
export class ProgressPrinter {
  private nextReportSeconds = new Map<string, number>();
  /** Each execution whose end was told, with the status told (and each refused start, told once). */
  private readonly ended = new Map<string, string>();
  /** Executions told Failed and held for a retry (onFailure: wait). */
  private readonly held = new Set<string>();
  private count = 0;
  private variables: Plan['variables'] = {};
  /** Where the train hands over: the loop continues as new when one more step would bring the history to this. */
  private continueAt = continueAtEvents;
  /** The history as the last start or look counted it: what the loop weighed the next step against. */
  private historyEvents = 0;

  private readonly write: (line: string) => void;
  private readonly colours: Palette;
  private readonly time: TimeFormat;

  constructor(write: (line: string) => void, colours: Palette, time: TimeFormat) {
    this.write = write;
    this.colours = colours;
    this.time = time;
  }

  /**
   * The time column's width: 13 fits an offset up to `+99d 23:59:59`; it grows (once) for a
   * longer run or for --timestamps, so every later line and continuation stays aligned.
   */
  private timeWidth = 13;

  private get continued(): string {
    return ' '.repeat(this.timeWidth);
  }

  on(event: RunEvent): void {
    const time = this.time(event.at);
    this.timeWidth = Math.max(this.timeWidth, time.length);
    const at = this.colours.dim(time.padStart(this.timeWidth));
    const continued = this.continued;
    if (event.type === 'decided') {
      const { plan, run } = event.output as { plan: Plan; run: Run };
      this.count = plan.count;
      this.variables = plan.variables;
      this.continueAt = plan.continueAtEvents ?? continueAtEvents;
      if (run.generation > 1) {
        this.write(`${at}  ${event.executionName} took over the run (execution ${run.generation} of the train)`);
        return;
      }
      const [kind, name] = plan.source.split(':');
      const source = kind === 'order' ? 'from the input' : kind === 'default' ? `the default sequence '${name}'` : `sequence '${name}'`;
      const order = plan.order.map((entry) => (typeof entry === 'string' ? entry : `[${entry.join(' + ')}]`)).join(' → ');
      this.write(`${at}  order decided: ${this.colours.bold(order)} (${source})`);
      if (plan.from !== undefined) {
        const skipped = run.results.map((result) => result.pipelineName);
        this.write(`${at}  from ${plan.from}: ${skipped.length > 0 ? `skipping ${skipped.join(', ')}` : 'nothing to skip'}`);
      }
      if (plan.dryRun) {
        this.write(`${at}  dry run: nothing will be started`);
        for (const [pipelineName, values] of Object.entries(plan.variables)) {
          for (const line of variableLines(`${pipelineName} would start`, values)) this.write(`${continued}  ${line}`);
        }
      }
      return;
    }
    if (event.type === 'retried') {
      this.write(`${at}  ${this.colours.yellow(retryLine(event.state, event.retry))}`);
      return;
    }
    if (event.type === 'continued') {
      // The count the hand-over was decided on, not the history's length now: the states on the way
      // to the hand-over have added a few events since (it may be past N), and its own end a few more.
      const history = `history at ${count(this.historyEvents, 'event')}, one more step would reach ${grouped(this.continueAt)}`;
      this.write(`${at}  ${this.colours.dim(`${history}: the run continues as new execution ${event.successorName}`)}`);
      return;
    }
    if (event.type === 'redriven') {
      this.write(`${at}  ${this.colours.yellow(`${event.executionName} redriven from ${event.state} (redrive ${event.redriveCount})`)}`);
      return;
    }
    if (event.type === 'stopped') {
      this.write(`${at}  ${this.colours.yellow(`${event.executionName} stopped in ${event.state}`)}${event.cause === undefined ? '' : `: ${event.cause}`}`);
      return;
    }
    const run = event.output as Run;
    this.historyEvents = run.history.events;
    for (const member of run.members) {
      if (member.pipelineExecutionId === undefined) {
        if (event.type === 'started' && member.status === 'NotStarted') this.onRefusedStart(at, member, run.members.length);
        continue;
      }
      if (event.type === 'started') this.onStart(at, member, run.members.length);
      else this.onCheck(at, member, event.at);
    }
    // An entry that succeeded has moved from the members to the results.
    if (event.type === 'checked') {
      for (const result of run.results) {
        if (result.pipelineExecutionId !== undefined && this.ended.get(result.pipelineExecutionId) !== result.status) this.onCheck(at, resultAsMember(result), event.at);
      }
    }
  }

  private onStart(at: string, member: Member, groupSize: number): void {
    const id = member.pipelineExecutionId!;
    if (this.nextReportSeconds.has(id)) return;
    this.nextReportSeconds.set(id, 300);
    // Where a pipeline elsewhere runs, as start-pipeline reached it: a local run's lines and status's on AWS alike.
    const where = member.location;
    const location = where === undefined ? '' : ` in account ${where.accountId}, ${where.region}${where.pipelineName === member.pipelineName ? '' : `, pipeline ${where.pipelineName}`}`;
    if (member.startLost === true) {
      this.write(`${at}  ${this.colours.bold(member.pipelineName)} found started by the attempt that failed (${member.position + 1} of ${this.count}${memberOfGroup(member, groupSize)})${location}, execution ${id}: not started again`);
      return;
    }
    // A member whose start was refused before the redrive starts now for the first time.
    const attempt = member.attempt > 0 ? `, ${member.earlierExecutionIds.length > 0 ? 'again ' : ''}after redrive ${member.attempt}` : '';
    this.write(`${at}  ${this.colours.bold(member.pipelineName)} started (${member.position + 1} of ${this.count}${memberOfGroup(member, groupSize)}${attempt})${location}, execution ${id}`);
    const given = Object.hasOwn(this.variables, member.pipelineName) ? this.variables[member.pipelineName]! : {};
    for (const line of variableLines('', given, member.variables ?? {})) this.write(`${this.continued}  ${line}`);
  }

  /** A member whose start was refused while the rest of its group runs: told once, with the refusal. */
  private onRefusedStart(at: string, member: Member, groupSize: number): void {
    const key = `refused:${member.position}:${member.member}:${member.attempt}`;
    if (this.ended.has(key)) return;
    this.ended.set(key, 'NotStarted');
    this.write(`${at}  ${this.colours.bold(member.pipelineName)} ${statusColour(this.colours, 'Failed')} to start (${member.position + 1} of ${this.count}${memberOfGroup(member, groupSize)}): ${member.error}: ${member.statusSummary}; the others are watched to their end`);
  }

  private onCheck(at: string, member: Member, nowMs: number): void {
    const id = member.pipelineExecutionId!;
    // Told ended, an execution is told again only when a redrive watches it again (it ran past its
    // timeout, or was retried in CodePipeline meanwhile): running again, or ended otherwise.
    if (this.ended.has(id)) {
      if (this.ended.get(id) === member.status && member.waitingForRetry !== true) return;
      this.ended.delete(id);
    }
    const elapsed = (nowMs - Date.parse(member.startedAt!)) / 1000;
    const name = this.colours.bold(member.pipelineName);
    if (member.supersededExecutionIds.length > 0 && !this.nextReportSeconds.has(id)) {
      this.nextReportSeconds.set(id, elapsed * 2);
      this.write(`${at}  ${name} was superseded; now following the newer execution ${id}`);
    }
    if (member.waitingForRetry === true) {
      // Told once per hold: a later look that finds it still Failed says nothing new.
      if (this.held.has(id)) return;
      this.held.add(id);
      const summary = member.statusSummary ? `: ${member.statusSummary}` : '';
      this.write(`${at}  ${name} ${statusColour(this.colours, 'Failed')}, waiting for a retry until ${this.time(Date.parse(member.deadline!))}${summary}`);
      return;
    }
    // Held, and now not Failed: someone retried the failed stage in CodePipeline. That line tells
    // where it stands, so the next "still in progress" line waits for the next doubling.
    if (member.status !== 'Failed' && this.held.delete(id)) {
      const which = (member.retries ?? 1) > 1 ? ` (retry ${member.retries})` : '';
      this.write(`${at}  ${name} was retried in CodePipeline${which}, now ${statusColour(this.colours, member.status)}`);
      this.reportedAt(id, elapsed);
    }
    if (['InProgress', 'Stopping'].includes(member.status)) {
      if (elapsed >= (this.nextReportSeconds.get(id) ?? 300)) {
        this.write(`${at}  ${name} still ${statusColour(this.colours, member.status)} after ${duration(elapsed)}`);
        this.reportedAt(id, elapsed);
      }
      return;
    }
    this.ended.set(id, member.status);
    // "after" is the execution's own time, as the table's duration: CodePipeline's start to its
    // end (from ours' start, after following a newer execution that superseded it); how late the
    // end was noticed follows it, `(event, +1 s)`. One left running past its
    // timeout has no end: its time so far. A failed look read from Step Functions (`sequencer
    // status`) has no end time either (Lambda reports a failure by its error alone), so its line,
    // as its table row, gives no duration rather than the time until it was noticed.
    const took = member.finishedAt !== undefined ? (Date.parse(member.finishedAt) - Date.parse(member.startedAt!)) / 1000 : member.status === 'TimedOut' ? elapsed : undefined;
    const after = took === undefined ? '' : ` after ${duration(took)}`;
    const summary = member.status === 'Succeeded' || !member.statusSummary ? '' : `: ${member.statusSummary}`;
    // Held for a retry (onFailure: wait), its end was known all along: the deadline, not a late look, ended the wait.
    const retried = member.retries === undefined ? '' : `retried ${timesOf(member.retries)} and failed again, `;
    const releasedBy = member.releasedBy ?? member.unretriable;
    const heldUntil = releasedBy !== undefined ? `${retried}held no more: ${releasedBy}` : `${retried}and no ${retried === '' ? '' : 'other '}retry was seen by its deadline`;
    const how = member.status === 'Failed' && this.held.has(id) ? `, ${heldUntil}` : noticed(member);
    this.write(`${at}  ${name} ${statusColour(this.colours, member.status)}${after}${how}${summary}`);
  }

  /** Told how long it has run at `elapsed`: the next such line comes at the first doubling past it. */
  private reportedAt(id: string, elapsed: number): void {
    let following = this.nextReportSeconds.get(id) ?? 300;
    while (following <= elapsed) following *= 2;
    this.nextReportSeconds.set(id, following);
  }
}

/** How the end was noticed: ` (event, +0.8 s)`, ` (sweep, +47 s)`, ` (poll)`. */
function noticed(member: Member): string {
  if (member.detectedBy === undefined) return '';
  if (member.detectedBy === 'poll' || member.finishedAt === undefined || member.detectedAt === undefined) return ` (${member.detectedBy})`;
  const seconds = Math.max(0, (Date.parse(member.detectedAt) - Date.parse(member.finishedAt)) / 1000);
  return ` (${member.detectedBy}, +${seconds < 10 ? `${Math.round(seconds * 10) / 10} s` : duration(seconds)})`;
}

/**
 * The values a pipeline was (or, in a dry run, would be) started with, one a line, each
 * forwarded one beside where it came from: `with IMAGE_TAG=1.4.2 (from #{P1.BuildVariables.IMAGE_TAG})`.
 */
function variableLines(lead: string, given: Record<string, string>, forwarded: Record<string, string> = {}): string[] {
  const opening = lead === '' ? 'with ' : `${lead} with `;
  return Object.entries(given).map(([name, value], index) => {
    const text = Object.hasOwn(forwarded, name) ? `${name}=${forwarded[name]} (from ${value})` : `${name}=${value}`;
    return `${index === 0 ? opening : ' '.repeat(opening.length)}${text}`;
  });
}

function resultAsMember(result: PipelineResult): Member {
  return {
    ...result,
    attempt: result.attempt ?? 0,
    polls: result.polls ?? 0,
    supersededExecutionIds: result.supersededExecutionIds ?? [],
    earlierExecutionIds: [],
  };
}

/**
 * `StartPipelines failed with AwsUnavailable; retrying (attempt 2 of 6, backoff up to 5 s with full jitter)`.
 * The backoff is the one Step Functions would wait (retryBackoffSeconds; the local engine waits
 * its mean in simulated time); full jitter picks a random wait up to it. Defaults per the States
 * Language: 1 s, 3 retries, rate 2, no jitter.
 */
export function retryLine(state: string, retry: RetryDetail | undefined): string {
  if (!retry) return `${state} failed and is being retried`;
  const { retrier, retryNumber } = retry;
  const maxAttempts = retrier.MaxAttempts ?? 3;
  const backoff = retryBackoffSeconds(retrier, retryNumber);
  const wait = retrier.JitterStrategy === 'FULL' ? `up to ${duration(backoff)} with full jitter` : duration(backoff);
  const error = retry.error === '' ? '' : ` with ${retry.error}`;
  return `${state} failed${error}; retrying (attempt ${retryNumber + 1} of ${maxAttempts + 1}, backoff ${wait})`;
}

function table(rows: string[][], colours: Palette): string[] {
  const widths = columnWidths(rows);
  return rows.map((row, index) => {
    const line = row.map((cell, column) => cell + ' '.repeat(widths[column]! - visibleLength(cell))).join('  ').trimEnd();
    return index === 0 ? colours.bold(line) : line;
  });
}

const columnWidths = (rows: string[][]) => rows[0]!.map((_, column) => Math.max(...rows.map((row) => visibleLength(row[column]!))));
const tableWidth = (rows: string[][]) => columnWidths(rows).reduce((total, width) => total + width + 2, -2);

/**
 * The summary table within `width` columns (a terminal's): first the reason leaves the table
 * for a line of its own under its row, wrapped; then the columns a reader misses least go, in
 * this order: `detected`, `finished` (started + duration tell it), `execution` (the progress
 * lines and the FAILED line name it), `duration`. What is left (#, pipeline, status, started)
 * is the table's spine; a pipeline name longer than the terminal can still overflow it.
 */
function fittedTable(rows: string[][], reasonColumn: number | undefined, width: number | undefined, colours: Palette): string[] {
  const header = rows[0]!;
  if (width === undefined || tableWidth(rows) <= width) return table(rows, colours);
  const keep = header.map((_, column) => column !== reasonColumn);
  const drop = ['detected', 'finished', 'execution', 'duration'];
  const kept = () => rows.map((row) => row.filter((_, column) => keep[column]));
  while (tableWidth(kept()) > width && drop.length > 0) keep[header.indexOf(drop.shift()!)] = false;
  const lines = table(kept(), colours);
  if (reasonColumn === undefined) return lines;
  // The reason goes under its row, starting where the pipeline name starts.
  const indent = ' '.repeat(columnWidths(rows)[0]! + 2);
  return lines.flatMap((line, index) => {
    const reason = index === 0 ? '' : rows[index]![reasonColumn]!;
    return reason === '' ? [line] : [line, ...wrap(reason, Math.max(20, width - indent.length)).map((part) => `${indent}${part}`)];
  });
}

/** Words to lines of at most `width` characters; a word longer than that gets a line of its own. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  return [...lines, current];
}

// eslint-disable-next-line no-control-regex
const visibleLength = (text: string) => text.replace(/\u001b\[\d+m/g, '').length;

/**
 * Under the table: the values each execution was started with, as CodePipeline received them,
 * each numbered as its row in the table (`2  P2 started with IMAGE_TAG=1.4.2`).
 */
export function startedWith(executions: { pipelineName: string; pipelineExecutionId: string; variables: Record<string, string> }[], rows: SummaryRow[]): string[] {
  const positioned = executions.map((execution) => {
    const id = execution.pipelineExecutionId;
    const row = rows.find((candidate) => [candidate.pipelineExecutionId, ...candidate.supersededExecutionIds, ...candidate.earlierExecutionIds].includes(id));
    return { position: row ? positionCell(row) : '-', execution };
  });
  // Columns as wide as their widest cell, the position's as the table's: every value starts under the first.
  const positionWidth = Math.max(...positioned.map(({ position }) => position.length));
  const nameWidth = Math.max(...executions.map((execution) => execution.pipelineName.length));
  return positioned.flatMap(({ position, execution }) =>
    variableLines(`${position.padEnd(positionWidth)}  ${execution.pipelineName.padEnd(nameWidth)} started`, execution.variables),
  );
}

/** What the summary's closing lines tell: how the run ended, and what it cost. */
export interface SummaryReport {
  status: Outcome['status'];
  error?: string;
  cause?: string;
  /** A run read from Step Functions: how each attempt before a redrive ended. */
  earlierAttempts?: EarlierAttempt[];
  /** A local run: the invocations of the event function and the sweeper that failed meanwhile. */
  functionFailures?: FunctionFailure[];
  stats: Pick<RunReport['stats'], 'stateTransitions' | 'historyEvents' | 'lambdaInvocations' | 'simulatedSeconds'> & Partial<Pick<RunReport['stats'], 'executions'>>;
}

/**
 * The summary table (one row per planned pipeline, see bin/summary.ts) and the outcome. `clock`
 * says whose time the run took: a local run's is simulated, a run read from Step Functions real.
 */
export function summary(
  report: SummaryReport,
  rows: SummaryRow[],
  colours: Palette,
  time: TimeFormat,
  options: { clock: 'simulated' | 'real'; variables?: string[]; width?: number } = { clock: 'simulated' },
): string[] {
  const lines: string[] = [''];
  if (rows.length > 0) {
    const table_ = [['#', 'pipeline', 'status', 'started', 'finished', 'duration', 'detected', 'execution', 'reason']];
    for (const row of rows) {
      const started = row.startedAt === undefined ? undefined : Date.parse(row.startedAt);
      const finished = row.finishedAt === undefined ? undefined : Date.parse(row.finishedAt);
      table_.push([
        positionCell(row),
        row.pipelineName,
        statusColour(colours, row.status),
        started === undefined ? '-' : time(started),
        finished === undefined ? '-' : time(finished),
        started === undefined || finished === undefined ? '-' : duration((finished - started) / 1000),
        row.detectionSeconds === undefined ? '-' : `+${duration(row.detectionSeconds)}${row.detectedBy === undefined ? '' : ` ${row.detectedBy}`}`,
        executionCell(row),
        reasonCell(row, time),
      ]);
    }
    // A run where everything succeeded has no reasons to give: no empty column.
    const withReasons = rows.some((row) => row.reason !== undefined);
    const cells = withReasons ? table_ : table_.map((row) => row.slice(0, -1));
    lines.push(...fittedTable(cells, withReasons ? cells[0]!.length - 1 : undefined, options.width, colours));
    const variables = options.variables ?? [];
    lines.push(...(variables.length > 0 ? ['', ...variables] : []), '');
  }
  const { stats } = report;
  // Transitions and invocations add up over a train's executions; the history is the largest one's,
  // which is what the 25,000-event limit applies to: say so where a sum would be read.
  const history = count(stats.historyEvents, 'history event');
  const counts = [
    count(stats.stateTransitions, 'state transition'),
    stats.executions !== undefined && stats.executions > 1 ? `${history} in the largest of ${stats.executions} executions` : history,
    count(stats.lambdaInvocations, 'Lambda invocation'),
  ].join(', ');
  const took = `${duration(stats.simulatedSeconds)}${options.clock === 'simulated' ? ' of simulated time' : ''}`;
  // Just above the outcome, which is the last attempt's: the execution's own error and cause no longer say why it was redriven.
  for (const attempt of report.earlierAttempts ?? []) lines.push(...earlierAttemptLines(attempt, colours, time));
  lines.push(...functionFailureLines(report.functionFailures ?? [], colours, time));
  if (report.status === 'SUCCEEDED') {
    const succeeded = rows.filter((row) => row.status === 'Succeeded').length;
    const skipped = rows.filter((row) => row.status === 'Skipped').length;
    // A dry run takes no time worth saying: '... nothing was started in 0 s' read as a timing.
    const what =
      succeeded + skipped > 0 && !rows.some((row) => row.status === 'Not started')
        ? `${count(succeeded, 'pipeline')} succeeded${skipped > 0 ? `, ${skipped} skipped` : ''} in ${took}`
        : 'dry run: the plan is valid, nothing was started';
    lines.push(`${colours.green('SUCCEEDED')}  ${what} (${counts})`);
  } else if (report.status === 'RUNNING') {
    const done = rows.filter((row) => row.status === 'Succeeded').length;
    lines.push(`${colours.yellow('RUNNING')}  ${done} of ${count(rows.length, 'pipeline')} succeeded so far, after ${took} (${counts})`);
  } else if (report.status === 'ABORTED') {
    // Stopping a run stops no pipeline: name those it left running, and say so when there were none.
    const running = rows.filter((row) => row.status === 'InProgress' || row.status === 'Stopping').map((row) => row.pipelineName);
    const left =
      running.length > 0 ? `; ${running.join(', ')} ${running.length === 1 ? 'was' : 'were'} left running in CodePipeline` : rows.length > 0 ? '; no pipeline was running' : '';
    lines.push(`${colours.yellow(options.clock === 'simulated' ? 'INTERRUPTED' : 'ABORTED')}  the run was stopped${left}`);
    lines.push(colours.dim(`after ${took} (${counts})`));
  } else {
    lines.push(failureLine(report, colours));
    lines.push(colours.dim(`after ${took} (${counts})`));
  }
  return lines;
}

/**
 * `release-42 attempt 1  FAILED at +0:15:02 in CheckPipelines (P2), redriven at +0:51:24`, then
 * its error and cause, as the outcome line gives them.
 */
function earlierAttemptLines(attempt: EarlierAttempt, colours: Palette, time: TimeFormat): string[] {
  const status = attempt.status.replace('_', ' ');
  const painted = attempt.status === 'ABORTED' ? colours.yellow(status) : colours.red(status);
  const pipelines = attempt.pipelines.length > 0 ? ` (${attempt.pipelines.join(', ')})` : '';
  const why = [attempt.error, attempt.cause].filter((part) => part !== undefined && part !== '').join(': ');
  return [
    `${attempt.executionName} attempt ${attempt.attempt}  ${painted} at ${time(attempt.endedAt)} in ${attempt.state}${pipelines}, redriven at ${time(attempt.redrivenAt)}`,
    ...(why === '' ? [] : [`  ${why}`]),
  ];
}

/**
 * One line per function and error: `sweeper failed 3 times (first at +0:10:37): AwsRequestRejected: ...`,
 * with what AWS would do with those invocations. The run went on without them.
 */
function functionFailureLines(failures: FunctionFailure[], colours: Palette, time: TimeFormat): string[] {
  const groups = new Map<string, FunctionFailure[]>();
  for (const failure of failures) {
    const key = `${failure.functionName}\u0000${failure.error}\u0000${failure.message}`;
    groups.set(key, [...(groups.get(key) ?? []), failure]);
  }
  return [...groups.values()].map((group) => {
    const [first] = group as [FunctionFailure, ...FunctionFailure[]];
    const times = group.length === 1 ? `once, at ${time(first.at)}` : `${group.length} times, first at ${time(first.at)}`;
    return `${colours.yellow(first.functionName)} failed ${times} (on AWS: Lambda's retries, then the dead-letter queue): ${first.error}: ${first.message}`;
  });
}

/** `FAILED  PipelineFailed: P2 (position 2 of 3) ...`: also what goes to stderr. */
export const failureLine = (report: Pick<SummaryReport, 'status' | 'error' | 'cause'>, colours: Palette) =>
  report.status === 'TIMED_OUT'
    ? `${colours.red('TIMED OUT')}  ${report.error ?? 'States.Timeout'}: ${oneLine(report.cause ?? 'the execution ran past its TimeoutSeconds')}`
    : report.status === 'ABORTED'
      ? // A stop's cause is anyone's text (`sequencer stop --cause`, the console): one line all the same.
        `${colours.yellow('ABORTED')}  the run was stopped${report.error === undefined ? '' : ` (${report.error})`}: ${oneLine(report.cause ?? 'no cause given')}`
      : `${colours.red('FAILED')}  ${report.error}: ${oneLine(report.cause ?? '')}`;
