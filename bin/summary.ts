import type { Member, OrderEntry, PipelineResult, Plan, Run } from '../src/run.js';
import { noStatusSummary, outcomeErrorOf } from '../src/errors.js';
import { supersededList } from '../src/superseded.js';

/**
 * The summary of a run, built from what the functions said (the plan, then each run state), not
 * from what CodePipeline happens to list: one row per planned pipeline, in plan order, whatever
 * became of it. `sequencer run` feeds it the local engine's events; `sequencer status` the
 * outputs it reads in an execution's history. Pure: no clock, no I/O.
 */

export type RowStatus = 'Succeeded' | 'Failed' | 'Stopped' | 'Cancelled' | 'Superseded' | 'TimedOut' | 'Not started' | 'Skipped' | 'InProgress' | 'Stopping';

export interface SummaryRow {
  /** 1-based position of the entry in the order. */
  position: number;
  /** 1-based place in its group; only for a member of a group. */
  member?: number;
  groupSize?: number;
  pipelineName: string;
  status: RowStatus;
  /** The execution watched last: ours, or the newer one that superseded it. */
  pipelineExecutionId?: string;
  /** Ours first, then each newer one followed before the one watched (the latest of them: src/superseded.ts keptSupersededIds). */
  supersededExecutionIds: string[];
  /** How many older superseded executions the run state no longer lists. */
  supersededOmitted?: number;
  /** Executions started by attempts before a redrive. */
  earlierExecutionIds: string[];
  startedAt?: string;
  finishedAt?: string;
  detectedAt?: string;
  /** detectedAt - finishedAt, in seconds: how long the end went unnoticed. */
  detectionSeconds?: number;
  /** What noticed the end: `event`, `sweep`, `poll`, `timeout` (the wait's deadline) or `start`. */
  detectedBy?: string;
  /** Why it did not succeed (or is not done). */
  reason?: string;
  /** Failed, and the run holds it for a retry (onFailure: wait). */
  waitingForRetry?: boolean;
  /** Held in a live run: until when (ISO), which the table shows as its other times and the reason quotes. */
  retryDeadline?: string;
  /** Its execution was found by a redrive, started by the attempt that failed, not started again. */
  startLost?: boolean;
  /** Its failed execution was retried in CodePipeline this many times (onFailure: wait). */
  retries?: number;
}

/** The reason as the table shows it: a retry's deadline in the table's own time format, not the ISO --json keeps. */
export const reasonCell = (row: SummaryRow, time: (epochMs: number) => string): string =>
  row.retryDeadline === undefined ? (row.reason ?? '') : (row.reason ?? '').replace(row.retryDeadline, time(Date.parse(row.retryDeadline)));

/** How the run ended, or `RUNNING` for a live execution. */
export interface Outcome {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'RUNNING' | 'TIMED_OUT';
  error?: string;
  cause?: string;
}

/** The last plan and run state seen, across a train's executions and redrives. */
export class RunState {
  plan: Plan | undefined;
  run: Run | undefined;

  /** Feeds one function output: decide-order's `{ plan, run }`, or a start/check `Run`. */
  see(output: unknown): void {
    if (typeof output !== 'object' || output === null) return;
    if ('plan' in output && 'run' in output) {
      this.plan = (output as { plan: Plan }).plan;
      this.run = (output as { run: Run }).run;
    } else if ('members' in output && 'results' in output) {
      this.run = output as Run;
    }
  }
}

/** The outputs among the engine's progress events: every one that carries a function's output. */
export function seeEvent(state: RunState, event: { type: string; output?: unknown }): void {
  if (event.type === 'decided' || event.type === 'started' || event.type === 'checked') state.see(event.output);
}

const codePipelineEnds = new Set(['Succeeded', 'Failed', 'Stopped', 'Cancelled', 'Superseded', 'TimedOut', 'InProgress', 'Stopping']);

/** The rows, one per planned pipeline (a group's members each have one), in plan order. */
export function summaryRows(plan: Plan | undefined, run: Run | undefined, outcome: Outcome): SummaryRow[] {
  if (!plan) return [];
  const results = run?.results ?? [];
  const members = run ? withFailure(run.members, outcome, plan) : [];
  const failedAt = run && outcome.status !== 'SUCCEEDED' && outcome.status !== 'RUNNING' ? run.index : undefined;
  return plan.order.flatMap((entry: OrderEntry, position) => {
    const names = typeof entry === 'string' ? [entry] : entry;
    return names.map((pipelineName, index): SummaryRow => {
      const place = typeof entry === 'string' ? {} : { member: index + 1, groupSize: names.length };
      const base = { position: position + 1, ...place, pipelineName };
      const result = results.find((candidate) => candidate.position === position && candidate.member === index);
      if (result) return fromResult(base, result, plan);
      const current = members.find((candidate) => candidate.position === position && candidate.member === index);
      if (current && current.pipelineExecutionId !== undefined) return fromMember(base, current, outcome);
      // A member whose start was refused while the rest of its group runs (src/start.ts) says why.
      const refused = current?.error !== undefined ? [current.error, current.statusSummary].filter((part) => part !== undefined).join(': ') : undefined;
      return { ...base, status: 'Not started', supersededExecutionIds: [], earlierExecutionIds: current?.earlierExecutionIds ?? [], reason: refused ?? notStartedReason(plan, outcome, position, failedAt) };
    });
  });
}

type RowBase = Pick<SummaryRow, 'position' | 'member' | 'groupSize' | 'pipelineName'>;

function fromResult(base: RowBase, result: PipelineResult, plan: Plan): SummaryRow {
  if (result.status === 'Skipped') {
    return { ...base, status: 'Skipped', supersededExecutionIds: [], earlierExecutionIds: [], reason: `before from ${plan.from ?? '?'}` };
  }
  return {
    ...base,
    status: 'Succeeded',
    ...(result.pipelineExecutionId !== undefined && { pipelineExecutionId: result.pipelineExecutionId }),
    supersededExecutionIds: result.supersededExecutionIds ?? [],
    ...(result.supersededOmitted !== undefined && { supersededOmitted: result.supersededOmitted }),
    earlierExecutionIds: result.earlierExecutionIds ?? [],
    ...(result.startLost === true && { startLost: true }),
    ...(result.retries !== undefined && { retries: result.retries }),
    ...times(result),
  };
}

function fromMember(base: RowBase, member: Member, outcome: Outcome): SummaryRow {
  const status = (codePipelineEnds.has(member.status) ? member.status : 'Failed') as RowStatus;
  const row: SummaryRow = {
    ...base,
    status,
    pipelineExecutionId: member.pipelineExecutionId!,
    supersededExecutionIds: member.supersededExecutionIds,
    ...(member.supersededOmitted !== undefined && { supersededOmitted: member.supersededOmitted }),
    earlierExecutionIds: member.earlierExecutionIds,
    ...(member.startLost === true && { startLost: true }),
    ...(member.retries !== undefined && { retries: member.retries }),
    ...times(member),
  };
  if (status === 'Succeeded') return row;
  if (member.waitingForRetry === true) {
    const why = outcome.status === 'RUNNING' ? `until ${member.deadline ?? 'its deadline'}` : `when ${outcome.status === 'ABORTED' ? 'the run was stopped' : outcome.error ?? 'the run ended'}`;
    const told = member.statusSummary === undefined ? '' : `: ${member.statusSummary}`;
    const held = outcome.status === 'RUNNING' && member.deadline !== undefined ? { retryDeadline: member.deadline } : {};
    return { ...row, waitingForRetry: true, ...held, reason: `Failed, waiting for a retry ${why}${told}` };
  }
  if (status === 'InProgress' || status === 'Stopping') {
    if (outcome.status === 'RUNNING') return row;
    const why = outcome.status === 'ABORTED' ? 'the run was stopped' : outcome.error ?? 'the run ended';
    // The run failed because it could not look: how the pipeline stands is not known, only how it last stood.
    if (outcome.error !== undefined && unlooked.has(outcome.error)) return { ...row, reason: `last seen ${status}; the run could not look again (${why})` };
    return { ...row, reason: `left running (${why})` };
  }
  const named = member.error ?? '';
  const told = member.statusSummary ?? (status === 'TimedOut' ? 'past pipelineTimeoutSeconds; left running' : '');
  return { ...row, reason: [named, told].filter((part) => part !== '').join(': ') || status };
}

/** The errors of a look that failed (the pipeline gone, access refused, AWS down): the run ended without knowing how its pipelines stood. */
const unlooked = new Set(['PipelineNotFound', 'PipelineAccessDenied', 'AwsRequestRejected', 'AwsUnavailable']);

function times(item: { startedAt?: string; finishedAt?: string; detectedAt?: string; detectedBy?: string }) {
  // To the millisecond, as the times it comes from: an event's second matters (the table rounds it).
  const detection =
    item.finishedAt !== undefined && item.detectedAt !== undefined ? Math.max(0, Date.parse(item.detectedAt) - Date.parse(item.finishedAt)) / 1000 : undefined;
  return {
    ...(item.startedAt !== undefined && { startedAt: item.startedAt }),
    ...(item.finishedAt !== undefined && { finishedAt: item.finishedAt }),
    ...(item.detectedAt !== undefined && { detectedAt: item.detectedAt }),
    ...(detection !== undefined && { detectionSeconds: detection }),
    ...(item.detectedBy !== undefined && { detectedBy: item.detectedBy }),
  };
}

function notStartedReason(plan: Plan, outcome: Outcome, position: number, failedAt: number | undefined): string {
  if (plan.dryRun) return 'dry run';
  if (outcome.status === 'RUNNING') return 'not yet';
  if (outcome.status === 'ABORTED') return 'the run was stopped first';
  if (failedAt !== undefined && position === failedAt && outcome.error) return outcome.error;
  if (failedAt !== undefined && position > failedAt) return `position ${failedAt + 1} did not succeed`;
  return outcome.error ?? 'the run ended first';
}

/** The run as the look that failed it saw it, from the failure's cause; the same run when the cause tells nothing new. */
export function withFailedLook(plan: Plan, run: Run, outcome: Outcome): Run {
  const members = withFailure(run.members, outcome, plan);
  return members.some((member, index) => member !== run.members[index]) ? { ...run, members } : run;
}

/** Where a pipeline elsewhere is, as a cause names it after the execution id (src/codepipeline.ts whereIs). */
const elsewhere = String.raw`(?: in account \d{12}, [a-z0-9-]+(?: \(pipeline [^)]+\))?)?`;

/**
 * The members as the failure left them. Lambda reports a failed look only by its error's name and
 * message (the local engine also shows the look itself): when the last state seen still has a
 * member in flight, read its end from the cause check-status wrote (src/check.ts): `P2 (position
 * 2 of 3) execution ID ended Failed: SUMMARY; it had superseded A, B` or `... execution ID is
 * still InProgress after 2 h 00 min 05 s, past pipelineTimeoutSeconds ...` (or `after 7205 s`,
 * as an execution run by an older deployment says it).
 */
function withFailure(members: Member[], outcome: Outcome, plan: Plan): Member[] {
  const cause = outcome.cause;
  if (outcome.status !== 'FAILED' || cause === undefined) return members;
  return members.map((member) => {
    if (!['InProgress', 'Stopping', 'Pending'].includes(member.status) && member.waitingForRetry !== true) return member;
    const where = `${member.pipelineName} (position ${member.position + 1} of ${plan.count}`;
    const at = cause.indexOf(where);
    if (at < 0) return member;
    const told = cause.slice(at + where.length).replace(/^[^)]*\)\s*/, '');
    const ended = new RegExp(
      `^execution (\\S+)${elsewhere} ended (\\w+)(?: \\([^)]*\\))?: (.*?)(?:; it had superseded ([^;]*?))?(?:; (?:it waited for a retry |it was retried in CodePipeline |not held for a retry: )[^;]*?)*(?:\\. Other members of the group: |\\. Later pipelines were not started\\.|;\\s\\S+ \\(position |\\.?$)`,
    ).exec(told);
    if (ended) {
      const [, id, status, statusSummary, superseded] = ended;
      const listed = superseded === undefined ? undefined : /^(.*?)(?: and (\d+) others)?$/.exec(superseded)!;
      const supersededExecutionIds = listed ? listed[1]!.split(', ') : member.supersededExecutionIds;
      const omitted = listed?.[2] === undefined ? member.supersededOmitted : Number(listed[2]);
      // The member the cause starts with is the error the execution failed with; every other one
      // was recorded with its own status's error, as the look that ended it recorded it.
      const error = member === members.find((candidate) => cause.startsWith(`${candidate.pipelineName} (position`)) ? outcome.error : outcomeErrorOf(status!);
      const { waitingForRetry: _held, statusSummary: _before, ...ended_ } = member;
      return {
        ...ended_,
        pipelineExecutionId: id!,
        status: status!,
        // The cause's words for a missing statusSummary are not CodePipeline's: leave it missing, as a local run's row does.
        ...(statusSummary !== noStatusSummary && { statusSummary: statusSummary! }),
        supersededExecutionIds,
        ...(omitted !== undefined && { supersededOmitted: omitted }),
        ...(error !== undefined && { error }),
      };
    }
    const timedOut = new RegExp(`^execution (\\S+)${elsewhere} is still \\w+ after [\\w ]+, past pipelineTimeoutSeconds`).exec(told);
    if (timedOut) return { ...member, pipelineExecutionId: timedOut[1]!, status: 'TimedOut', error: 'PipelineTimedOut' };
    // Another member of the group, as the cause lists it: `execution ID Succeeded`.
    const other = new RegExp(`^execution (\\S+)${elsewhere} (\\w+)`).exec(told);
    if (other && codePipelineEnds.has(other[2]!)) return { ...member, pipelineExecutionId: other[1]!, status: other[2]! };
    return member;
  });
}

/** `new-id (superseded old-id)`, `id (earlier attempt old-id)`. */
export function executionCell(row: SummaryRow): string {
  if (row.pipelineExecutionId === undefined) return '-';
  const notes = [
    ...(row.supersededExecutionIds.length > 0 ? [`superseded ${supersededList(row.supersededExecutionIds, row.supersededOmitted)}`] : []),
    ...(row.earlierExecutionIds.length > 0 ? [`earlier attempt ${row.earlierExecutionIds.join(', ')}`] : []),
  ];
  return notes.length > 0 ? `${row.pipelineExecutionId} (${notes.join('; ')})` : row.pipelineExecutionId;
}

/** `2`, or `2.1` for the first member of the group at position 2. */
export const positionCell = (row: SummaryRow) => (row.member === undefined ? String(row.position) : `${row.position}.${row.member}`);

/** The `pipelines` field of `--json`: the rows, with what a script needs. */
export function pipelinesJson(rows: SummaryRow[]) {
  return rows.map((row) => ({
    position: row.position,
    ...(row.member !== undefined && { member: row.member }),
    pipelineName: row.pipelineName,
    status: row.status,
    ...(row.pipelineExecutionId !== undefined && { pipelineExecutionId: row.pipelineExecutionId }),
    ...(row.supersededExecutionIds.length > 0 && { supersededExecutionIds: row.supersededExecutionIds }),
    ...(row.supersededOmitted !== undefined && { supersededOmitted: row.supersededOmitted }),
    ...(row.earlierExecutionIds.length > 0 && { earlierExecutionIds: row.earlierExecutionIds }),
    ...(row.startedAt !== undefined && { startedAt: row.startedAt }),
    ...(row.finishedAt !== undefined && { finishedAt: row.finishedAt }),
    ...(row.detectionSeconds !== undefined && { detectionSeconds: row.detectionSeconds }),
    ...(row.detectedBy !== undefined && { detectedBy: row.detectedBy }),
    ...(row.reason !== undefined && { reason: row.reason }),
    ...(row.waitingForRetry === true && { waitingForRetry: true }),
    ...(row.startLost === true && { startLost: true }),
    ...(row.retries !== undefined && { retries: row.retries }),
  }));
}
