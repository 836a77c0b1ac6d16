import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { loadDefinition } from '../local/definition.js';
import type { EarlierAttempt, RetryDetail, RunEvent } from '../local/engine.js';
import { continuedAs as handedOverTo, executionArnPrefix, looksLikeSuccessor } from '../src/continuation.js';
import { causeMessage } from '../src/lambda-cause.js';
import { entryPipelines } from '../src/run.js';
import { NothingToShow } from './errors.js';
import { RunState, seeEvent, summaryRows, withFailedLook, type Outcome, type SummaryRow } from './summary.js';

/**
 * `sequencer status`: a run read back from Step Functions. Each execution's history holds every
 * function's output (LambdaFunctionSucceeded), so the same progress events the local engine
 * emits can be rebuilt from it, and the same summary folded from them. A train is followed
 * from its first execution through each `{"continuedAs": ARN}` it ended with.
 */

/** The state machine `sls deploy` names for a stage. */
export const stateMachineName = (stage: string) => `codepipeline-sequencer-${stage}`;

/** Retry entries of the definition, by state: to say which one a retry in the history followed. */
export type Retriers = Record<string, RetryDetail['retrier'][]>;

export interface ExecutionRead {
  name: string;
  arn: string;
  described: Pick<DescribeExecutionCommandOutput, 'status' | 'error' | 'cause' | 'output' | 'input' | 'startDate' | 'stopDate' | 'redriveCount'>;
  history: HistoryEvent[];
}

export interface StatusReport {
  executionName: string;
  stateMachineArn: string;
  status: Outcome['status'];
  error?: string;
  cause?: string;
  output?: unknown;
  events: RunEvent[];
  rows: SummaryRow[];
  generations: { executionName: string; status: string; historyEvents: number; stateTransitions: number }[];
  redrives: number;
  /** A scheduled start skipped for a run in flight: its output's reason, naming that run and when the schedule fired. */
  skipped?: string;
  /** Oldest first, across the train's executions. */
  earlierAttempts: EarlierAttempt[];
  startedAt: number;
  stats: { stateTransitions: number; historyEvents: number; lambdaInvocations: number; simulatedSeconds: number; executions: number };
}

/** The stage's state machine ARN, as ListStateMachines names it. */
export async function findStateMachine(client: SFNClient, stage: string): Promise<string> {
  const name = stateMachineName(stage);
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListStateMachinesCommand({ maxResults: 1000, nextToken }));
    const found = page.stateMachines?.find((stateMachine) => stateMachine.name === name);
    if (found) return found.stateMachineArn!;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new NothingToShow(`there is no state machine ${name} (stage '${stage}'); deploy it with 'npx --no sls deploy --stage ${stage}', or give --stage`);
}

/** An execution's ARN from a name or an ARN; without either, the stage's train's (see `stageTrain`). */
export async function resolveExecution(client: SFNClient, stateMachineArn: string, execution: string | undefined): Promise<string> {
  if (execution?.startsWith('arn:')) return execution;
  if (execution !== undefined) return `${executionArnPrefix(stateMachineArn)}${execution}`;
  return stageTrain(client, stateMachineArn, (message) => new NothingToShow(message));
}

/** A state machine's running executions (a run in flight, a continuation, a start still being refused). */
export const runningOf = async (client: SFNClient, stateMachineArn: string): Promise<ExecutionListItem[]> =>
  (await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 100 }))).executions ?? [];

/**
 * Of a state machine's running executions, the train's: the one single flight lets go on. A
 * continuation belongs to a train that began before any new run (its latest generation is the
 * train's current execution); otherwise the oldest, since a start that another run refuses is
 * always the newer of the two, and may still be running while DecideOrder refuses it.
 */
export function runningTrain(running: ExecutionListItem[]): ExecutionListItem | undefined {
  const newestFirst = [...running].sort((one, other) => (other.startDate?.getTime() ?? 0) - (one.startDate?.getTime() ?? 0));
  return newestFirst.find((execution) => looksLikeSuccessor(execution.name ?? '')) ?? newestFirst.at(-1);
}

/** What a scheduled start skipped for a run in flight ends with (SkipScheduledRun's output: decide-order's `skipped`). */
export function skippedReason(described: Pick<DescribeExecutionCommandOutput, 'status' | 'output'>): string | undefined {
  if (described.status !== 'SUCCEEDED') return undefined;
  const output = parse(described.output) as { reason?: unknown } | null | undefined;
  return typeof output === 'object' && output !== null && Object.keys(output).length === 1 && typeof output.reason === 'string' ? output.reason : undefined;
}

/** The state an execution was in last: the newest StateEntered of its history (`read`, when the caller has it whole). */
async function lastStateOf(client: SFNClient, executionArn: string, read?: readonly HistoryEvent[]): Promise<string | undefined> {
  if (read !== undefined) return read.findLast((event) => event.type?.endsWith('StateEntered'))?.stateEnteredEventDetails?.name;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20, nextToken }));
    const entered = page.events?.find((event) => event.type?.endsWith('StateEntered'));
    if (entered) return entered.stateEnteredEventDetails?.name;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/**
 * How a start ended before it started anything, or undefined for a train: DecideOrder failed it
 * (for any reason: a run in flight, bad input, a pipeline not allowed or not found; a
 * continuation's input aside, whose train did run), it was a dry run, or, scheduled with whenBusy
 * skip, it ended at SkipScheduledRun. Following it tells nothing of the stage's train, and
 * redriving it would only try the start again.
 */
export async function refusedStart(
  client: SFNClient,
  executionArn: string,
  described: Pick<DescribeExecutionCommandOutput, 'status' | 'error' | 'cause' | 'input' | 'output'>,
  history?: readonly HistoryEvent[],
): Promise<string | undefined> {
  const skipped = skippedReason(described);
  if (skipped !== undefined) return `skipped: ${skipped}`;
  // ReturnPlanOnly's output is the plan, which says it was a dry run.
  if (described.status === 'SUCCEEDED' && objectOf(described.output).dryRun === true) return 'a dry run: it only checked the plan';
  if (described.status !== 'FAILED' || Object.hasOwn(objectOf(described.input), 'continuation')) return undefined;
  if ((await lastStateOf(client, executionArn, history)) !== 'DecideOrder') return undefined;
  return `refused at DecideOrder: ${described.error ?? 'an error'}: ${described.cause === undefined ? 'no cause given' : causeMessage(described.cause)}`;
}

/**
 * The stage's train: its running train if there is one, else its newest execution that was a
 * train, past any start refused since (`refusedStart`). `none` says there is none.
 */
export async function stageTrain(client: SFNClient, stateMachineArn: string, none: (message: string) => Error): Promise<string> {
  const running = runningTrain(await runningOf(client, stateMachineArn));
  if (running) return running.executionArn!;
  let refused = 0;
  /** The newest start that started nothing, and how it ended: what the reader most likely just did. */
  let newest: string | undefined;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 100, nextToken }));
    for (const { executionArn, name, status } of page.executions ?? []) {
      // Only a start that failed or succeeded can have been refused; any other ran (or runs, started since the look above).
      if (status !== 'FAILED' && status !== 'SUCCEEDED') return executionArn!;
      const described = await client.send(new DescribeExecutionCommand({ executionArn }));
      const reason = await refusedStart(client, executionArn!, described);
      if (reason === undefined) return executionArn!;
      newest ??= `${name ?? executionArn!.split(':').at(-1)!}: ${reason}`;
      refused += 1;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  if (refused === 0) throw none(`${stateMachineArn} has no executions yet; start one with 'npx --no sequencer start'`);
  const which = refused === 1 ? `its one execution started nothing, ${newest}` : `its ${refused} executions started nothing, the newest ${newest}`;
  throw none(`${stateMachineArn} has run no train yet: ${which}; start one with 'npx --no sequencer start'`);
}

/** An execution's input (or output) as a fresh object; anything else, or nothing, as an empty one. */
export const objectOf = (text: string | undefined): Record<string, unknown> => {
  const value = parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
};

export async function readExecution(client: SFNClient, arn: string): Promise<ExecutionRead> {
  let described;
  try {
    described = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionDoesNotExist') throw new NothingToShow(`there is no execution ${arn}`);
    throw error;
  }
  const history: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000, nextToken, includeExecutionData: true }));
    history.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return { name: described.name!, arn, described, history };
}

/** The first execution of the train `arn` belongs to: a continuation's input names it. */
export function originOf(read: ExecutionRead): string {
  try {
    const input = JSON.parse(read.described.input ?? '{}') as { continuation?: { run?: { origin?: { executionArn?: unknown } } } };
    const origin = input.continuation?.run?.origin?.executionArn;
    return typeof origin === 'string' ? origin : read.arn;
  } catch {
    return read.arn;
  }
}

/** Reads a train from Step Functions: the execution's first one, then every continuation. */
export async function readTrain(client: SFNClient, executionArn: string): Promise<ExecutionRead[]> {
  let read = await readExecution(client, executionArn);
  const origin = originOf(read);
  if (origin !== executionArn) read = await readExecution(client, origin);
  const train = [read];
  for (;;) {
    const next = continuedAs(read);
    if (next === undefined || train.length > 1000) return train;
    read = await readExecution(client, next);
    train.push(read);
  }
}

export const continuedAs = (read: ExecutionRead): string | undefined => handedOverTo(read.described);

const parse = (text: string | undefined): unknown => {
  try {
    return JSON.parse(text ?? 'null');
  } catch {
    return undefined;
  }
};

/** The events that end an attempt, and the status each gives the execution. */
const attemptEnds: Record<string, EarlierAttempt['status']> = { ExecutionFailed: 'FAILED', ExecutionAborted: 'ABORTED', ExecutionTimedOut: 'TIMED_OUT' };

/** The Task state behind each function's progress event. */
const progressOf: Record<string, 'decided' | 'started' | 'checked'> = { DecideOrder: 'decided', StartPipelines: 'started', CheckPipelines: 'checked' };

/**
 * The progress events the local engine would have emitted, rebuilt from one execution's history:
 * a function's output for each Task, a retry where a failed attempt is followed by another, a
 * continuation, a redrive. A look that failed the run is shown as what its cause tells; each
 * attempt that ended before a redrive is told by the end event the redrive follows.
 */
export function eventsFromHistory(
  executionName: string,
  history: HistoryEvent[],
  retriers: Retriers,
  state: RunState,
): { events: RunEvent[]; transitions: number; lambdaInvocations: number; earlierAttempts: EarlierAttempt[] } {
  const events: RunEvent[] = [];
  const earlierAttempts: EarlierAttempt[] = [];
  let stateName = '';
  let taskState = '';
  let lastError: string | undefined;
  let retriesInARow = 0;
  let redriveCount: number | undefined;
  let attemptEnd: Omit<EarlierAttempt, 'executionName' | 'attempt' | 'redrivenAt'> | undefined;
  let transitions = 0;
  let lambdaInvocations = 0;
  const emit = (event: RunEvent) => {
    seeEvent(state, event as { type: string; output?: unknown });
    events.push(event);
  };
  for (const event of history) {
    const at = event.timestamp!.getTime();
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      transitions += 1;
      const name = event.stateEnteredEventDetails?.name ?? '';
      stateName = name;
      if (redriveCount !== undefined) {
        emit({ type: 'redriven', executionName, state: name, redriveCount, at });
        redriveCount = undefined;
      }
      if (type === 'TaskStateEntered') {
        taskState = name;
        lastError = undefined;
        retriesInARow = 0;
      }
    } else if (type === 'LambdaFunctionScheduled' || type === 'TaskScheduled') {
      if (type === 'LambdaFunctionScheduled') lambdaInvocations += 1;
      if (lastError !== undefined) {
        retriesInARow += 1;
        transitions += 1;
        const retrier = (retriers[taskState] ?? []).find((candidate) => candidate.ErrorEquals.includes(lastError!) || candidate.ErrorEquals.includes('States.ALL'));
        emit({ type: 'retried', executionName, state: taskState, at, ...(retrier && { retry: { error: lastError, retryNumber: retriesInARow, retrier } }) });
        lastError = undefined;
      }
    } else if (type === 'LambdaFunctionFailed' || type === 'TaskFailed') {
      lastError = event.lambdaFunctionFailedEventDetails?.error ?? event.taskFailedEventDetails?.error ?? '';
    } else if (type === 'LambdaFunctionSucceeded' && Object.hasOwn(progressOf, taskState)) {
      emit({ type: progressOf[taskState]!, executionName, output: parse(event.lambdaFunctionSucceededEventDetails?.output), at });
    } else if (type === 'TaskSucceeded') {
      const successor = (parse(event.taskSucceededEventDetails?.output) as { ExecutionArn?: string } | undefined)?.ExecutionArn;
      if (successor) emit({ type: 'continued', executionName, successorName: successor.split(':').at(-1)!, at });
    } else if (type === 'ExecutionRedriven') {
      redriveCount = event.executionRedrivenEventDetails?.redriveCount ?? 1;
      // The n-th redrive follows the end of attempt n.
      if (attemptEnd) earlierAttempts.push({ executionName, attempt: redriveCount, ...attemptEnd, redrivenAt: at });
      attemptEnd = undefined;
    } else if (Object.hasOwn(attemptEnds, type)) {
      const details = event.executionFailedEventDetails ?? event.executionAbortedEventDetails ?? event.executionTimedOutEventDetails;
      const outcome = { status: attemptEnds[type]!, ...(details?.error !== undefined && { error: details.error }), ...(details?.cause !== undefined && { cause: causeMessage(details.cause) }) };
      // A stop is a step of the train's story, with who stopped it and why, as a failed look is.
      if (outcome.status === 'ABORTED') emit({ type: 'stopped', executionName, state: stateName, ...(outcome.cause !== undefined && { cause: outcome.cause }), at });
      if (outcome.status === 'FAILED' && taskState === 'CheckPipelines' && state.plan && state.run) {
        const looked = withFailedLook(state.plan, state.run, outcome);
        if (looked !== state.run) emit({ type: 'checked', executionName, output: looked, at });
      }
      attemptEnd = { ...outcome, state: stateName, pipelines: entryPipelines(state.plan, state.run), endedAt: at };
    }
  }
  return { events, transitions, lambdaInvocations, earlierAttempts };
}

/** Reads the train and folds it into what `status` prints. */
export async function readStatus(client: SFNClient, stateMachineArn: string, executionArn: string, retriers: Retriers): Promise<StatusReport> {
  return foldTrain(await readTrain(client, executionArn), stateMachineArn, retriers);
}

/** A train's executions, as read so far, folded into what `status` prints. */
export function foldTrain(train: ExecutionRead[], stateMachineArn: string, retriers: Retriers): StatusReport {
  const state = new RunState();
  const events: RunEvent[] = [];
  const generations: StatusReport['generations'] = [];
  const earlierAttempts: EarlierAttempt[] = [];
  let lambdaInvocations = 0;
  for (const read of train) {
    const replayed = eventsFromHistory(read.name, read.history, retriers, state);
    events.push(...replayed.events);
    earlierAttempts.push(...replayed.earlierAttempts);
    lambdaInvocations += replayed.lambdaInvocations;
    generations.push({ executionName: read.name, status: read.described.status ?? 'UNKNOWN', historyEvents: read.history.length, stateTransitions: replayed.transitions });
  }
  const first = train[0]!;
  const last = train.at(-1)!;
  const status = (['SUCCEEDED', 'FAILED', 'ABORTED', 'RUNNING', 'TIMED_OUT'].includes(last.described.status ?? '') ? last.described.status : 'RUNNING') as Outcome['status'];
  const outcome: Outcome = {
    status,
    ...(last.described.error !== undefined && { error: last.described.error }),
    ...(last.described.cause !== undefined && { cause: causeMessage(last.described.cause) }),
  };
  const startedAt = first.described.startDate!.getTime();
  const lastEvent = last.history.at(-1)?.timestamp?.getTime() ?? startedAt;
  const endedAt = last.described.stopDate?.getTime() ?? lastEvent;
  const skipped = skippedReason(last.described);
  const rows = summaryRows(state.plan, state.run, outcome);
  return {
    executionName: first.name,
    stateMachineArn,
    ...outcome,
    ...(status === 'SUCCEEDED' && { output: parse(last.described.output) }),
    events,
    // Nothing started because another run was in flight, not because the run ended before its turn.
    rows: skipped === undefined ? rows : rows.map((row) => (row.status === 'Not started' ? { ...row, reason: 'skipped: another run was in flight' } : row)),
    generations,
    redrives: last.described.redriveCount ?? 0,
    ...(skipped !== undefined && { skipped }),
    earlierAttempts,
    startedAt,
    stats: {
      stateTransitions: generations.reduce((total, generation) => total + generation.stateTransitions, 0),
      historyEvents: Math.max(...generations.map((generation) => generation.historyEvents)),
      lambdaInvocations,
      simulatedSeconds: (endedAt - startedAt) / 1000,
      executions: train.length,
    },
  };
}

/** The Retry entries of each Task in a definition. */
export function retriersOf(definition: { States: Record<string, Record<string, unknown>> }): Retriers {
  return Object.fromEntries(Object.entries(definition.States).map(([name, state]) => [name, (state.Retry as RetryDetail['retrier'][] | undefined) ?? []]));
}

/** Finds the stage's state machine and the execution, and reads the train it belongs to. */
export async function readStatusFor(client: SFNClient, stage: string, execution: string | undefined): Promise<StatusReport> {
  const stateMachineArn = execution?.startsWith('arn:') ? execution.replace(':execution:', ':stateMachine:').replace(/:[^:]*$/, '') : await findStateMachine(client, stage);
  const executionArn = await resolveExecution(client, stateMachineArn, execution);
  return readStatus(client, stateMachineArn, executionArn, retriersOf(loadDefinition()));
}

