import type { RunEvent, RunReport } from '../local/engine.js';
import type { Plan, PipelineResult, Run, TrackedExecution } from '../src/run.js';

/** Colour only for a person at a terminal, and never when NO_COLOR is set. */
export function palette(enabled: boolean) {
  const paint = (code: number) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { dim: paint(2), bold: paint(1), green: paint(32), red: paint(31), yellow: paint(33) };
}

export type Palette = ReturnType<typeof palette>;

/** `10 min 2 s`, `3 h 5 min`, `2 d 4 h`: the two largest units are enough to read a duration. */
export function duration(seconds: number): string {
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ];
  let rest = Math.round(seconds);
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${amount} ${unit}`);
    if (parts.length === 2) break;
  }
  return parts.length === 0 ? '0 s' : parts.filter((part) => !part.startsWith('0 ')).join(' ') || '0 s';
}

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

const statusColour = (colours: Palette, status: string) =>
  status === 'Succeeded' ? colours.green(status) : ['InProgress', 'Stopping'].includes(status) ? colours.yellow(status) : colours.red(status);

/**
 * Turns the functions' progress into one line per step. "Still in progress" lines come at
 * doubling intervals (5 min, 10, 20, ...), so a seven-day approval prints a dozen, not a thousand.
 */
export class ProgressPrinter {
  private nextReportSeconds = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly colours: Palette,
    private readonly runStartMs: number,
  ) {}

  on(event: RunEvent): void {
    const at = this.colours.dim(offset(event.at - this.runStartMs).padStart(13));
    if (event.type === 'decided') {
      const { plan } = event.output as { plan: Plan };
      this.count = plan.count;
      const [kind, name] = plan.source.split(':');
      const source = kind === 'order' ? 'from the input' : kind === 'default' ? `the default sequence '${name}'` : `sequence '${name}'`;
      this.write(`${at}  order decided: ${this.colours.bold(plan.order.join(' → '))} (${source})`);
      if (plan.dryRun) this.write(`${at}  dry run: nothing will be started`);
      return;
    }
    if (event.type === 'retried') {
      this.write(`${at}  ${this.colours.yellow(`${event.state} failed and is being retried`)}`);
      return;
    }
    const { current } = event.output as Run;
    if (!current) return;
    if (event.type === 'started') {
      this.nextReportSeconds.set(current.pipelineExecutionId, 300);
      const position = `${current.position + 1} of ${this.count}`;
      this.write(`${at}  ${this.colours.bold(current.pipelineName)} started (${position}), execution ${current.pipelineExecutionId}`);
      return;
    }
    this.onCheck(at, current, event.at);
  }

  private onCheck(at: string, current: TrackedExecution, nowMs: number): void {
    const elapsed = (nowMs - Date.parse(current.startedAt)) / 1000;
    const name = this.colours.bold(current.pipelineName);
    if (current.supersededExecutionIds.length > 0 && !this.nextReportSeconds.has(current.pipelineExecutionId)) {
      this.nextReportSeconds.set(current.pipelineExecutionId, elapsed * 2);
      this.write(`${at}  ${name} was superseded; now following the newer execution ${current.pipelineExecutionId}`);
    }
    if (['InProgress', 'Stopping'].includes(current.status)) {
      const next = this.nextReportSeconds.get(current.pipelineExecutionId) ?? 300;
      if (elapsed >= next) {
        this.write(`${at}  ${name} still ${statusColour(this.colours, current.status)} after ${duration(elapsed)}`);
        let following = next;
        while (following <= elapsed) following *= 2;
        this.nextReportSeconds.set(current.pipelineExecutionId, following);
      }
      return;
    }
    const took = current.finishedAt ? (Date.parse(current.finishedAt) - Date.parse(current.startedAt)) / 1000 : elapsed;
    const summary = current.status === 'Succeeded' || !current.statusSummary ? '' : `: ${current.statusSummary}`;
    this.write(`${at}  ${name} ${statusColour(this.colours, current.status)} after ${duration(took)}${summary}`);
  }
}

function table(rows: string[][], colours: Palette): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => visibleLength(row[column]!))));
  return rows.map((row, index) => {
    const line = row.map((cell, column) => cell + ' '.repeat(widths[column]! - visibleLength(cell))).join('  ').trimEnd();
    return index === 0 ? colours.bold(line) : line;
  });
}

// eslint-disable-next-line no-control-regex
const visibleLength = (text: string) => text.replace(/\u001b\[\d+m/g, '').length;

/** The summary table and the outcome, in simulated time. */
export function summary(report: RunReport, colours: Palette, runStartMs: number): string[] {
  const lines: string[] = [''];
  const output = report.output as { pipelines?: PipelineResult[]; order?: string[] } | undefined;
  const ours = report.world.executions.filter((execution) => execution.startedBy === 'sequencer');
  if (ours.length > 0) {
    const rows = [['#', 'pipeline', 'status', 'started', 'finished', 'duration', 'execution']];
    ours.forEach((execution, index) => {
      const started = Date.parse(execution.startedAt);
      const finished = execution.finishedAt ? Date.parse(execution.finishedAt) : undefined;
      rows.push([
        String(index + 1),
        execution.pipelineName,
        statusColour(colours, execution.status),
        offset(started - runStartMs),
        finished === undefined ? '-' : offset(finished - runStartMs),
        finished === undefined ? '-' : duration((finished - started) / 1000),
        execution.pipelineExecutionId,
      ]);
    });
    lines.push(...table(rows, colours), '');
  }
  const { stats } = report;
  const counts = `${stats.stateTransitions} state transitions, ${stats.historyEvents} history events, ${stats.lambdaInvocations} Lambda invocations`;
  if (report.status === 'SUCCEEDED') {
    const what = output?.pipelines ? `${output.pipelines.length} pipeline${output.pipelines.length === 1 ? '' : 's'} succeeded` : 'dry run: the plan is valid, nothing was started';
    lines.push(`${colours.green('SUCCEEDED')}  ${what} in ${duration(stats.simulatedSeconds)} of simulated time (${counts})`);
  } else {
    lines.push(`${colours.red('FAILED')}  ${report.error}: ${report.cause}`);
    lines.push(colours.dim(`after ${duration(stats.simulatedSeconds)} of simulated time (${counts})`));
  }
  return lines;
}
