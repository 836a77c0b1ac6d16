import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { AwsServiceError } from './errors.js';
import { executionIdFor } from './ids.js';
import { paginate } from './paging.js';
import { awsEnum, awsInteger, awsPayload, awsString, parseRequest } from './validation.js';
import { maxExecutionInputBytes } from '../../src/names.js';

/** A state machine execution as the runner reports it; dates in epoch milliseconds. */
export interface SfnExecutionRecord {
  executionArn: string;
  /** The unqualified state machine ARN, even when the execution was started through a version or an alias. */
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
  stateMachineVersionArn?: string;
  stateMachineAliasArn?: string;
  redriveCount?: number;
  redriveDate?: number;
}

/*
 * Step Functions names: 1 to 80 characters, none of them whitespace, brackets, wildcards, the
 * special characters " # % \ ^ | ~ ` $ & , ; : / or control characters; so `+` and `!` are legal.
 * A version ARN ends in `:<number>`, an alias ARN in `:<alias name>`.
 */
const legalName = '[^\\s<>{}\\[\\]?*"#%\\\\^|~`$&,;:/\\u0000-\\u001f\\u007f-\\u009f]{1,80}';
const aliasName = '(?=[0-9]*[a-zA-Z_.-])[a-zA-Z0-9_.-]{1,80}';
const stateMachineArnPattern = new RegExp(
  `^(arn:aws[a-z-]*:states:[a-z0-9-]+:\\d{12}:stateMachine:${legalName})(?::([1-9][0-9]{0,9}|${aliasName}))?$`,
  'u',
);

// Constraints from the Step Functions API reference.
const listExecutionsInput = z.object({
  stateMachineArn: awsString({ min: 1, max: 256 }).optional(),
  statusFilter: awsEnum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']).optional(),
  maxResults: awsInteger({ min: 0, max: 1000 }).optional(),
  nextToken: awsString({ min: 1, max: 3096 }).optional(),
  mapRunArn: awsString({ min: 1, max: 2000 }).optional(),
  redriveFilter: awsEnum(['REDRIVEN', 'NOT_REDRIVEN']).optional(),
});

// StartExecution and DescribeExecution, from the Step Functions API reference.
const startExecutionInput = z.object({
  stateMachineArn: awsString({ min: 1, max: 256 }),
  name: awsString({ min: 1, max: 80 }).optional(),
  input: awsPayload(maxExecutionInputBytes).optional(),
  traceHeader: awsString({ max: 256 }).optional(),
});
const describeExecutionInput = z.object({
  executionArn: awsString({ min: 1, max: 256 }),
  includedData: awsEnum(['ALL_DATA', 'METADATA_ONLY']).optional(),
});
/** Names may not hold white space, brackets, wildcards, these punctuation marks, or control characters (StartExecution). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what AWS forbids here
const illegalNameCharacters = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;
/** An execution ARN: the state machine's legal name, then the execution's. */
const executionArnPattern = new RegExp(`^arn:aws[a-z-]*:states:[a-z0-9-]+:\\d{12}:execution:${legalName}:${legalName}$`, 'u');

// StopExecution and RedriveExecution, from the Step Functions API reference.
const stopExecutionInput = z.object({
  executionArn: awsString({ min: 1, max: 256 }),
  error: awsString({ max: 256 }).optional(),
  cause: awsString({ max: 32_768 }).optional(),
});
const redriveExecutionInput = z.object({
  executionArn: awsString({ min: 1, max: 256 }),
  clientToken: awsString({ min: 1, max: 64 }).optional(),
});

/** The events that end an execution's history. */
const closingEvents = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/** How long after its end an execution may be redriven (RedriveExecution reference). */
const redrivableForMs = 14 * 86_400_000;

const listStateMachinesInput = z.object({
  maxResults: awsInteger({ min: 0, max: 1000 }).optional(),
  nextToken: awsString({ min: 1, max: 3096 }).optional(),
});

// GetExecutionHistory, from the Step Functions API reference.
const getExecutionHistoryInput = z.object({
  executionArn: awsString({ min: 1, max: 256 }),
  maxResults: awsInteger({ min: 0, max: 1000 }).optional(),
  reverseOrder: z.boolean().optional(),
  nextToken: awsString({ min: 1, max: 3096 }).optional(),
  includeExecutionData: z.boolean().optional(),
});

/** One HistoryEvent as GetExecutionHistory answers it, before its id: timestamp in epoch seconds, type, and its *EventDetails. */
export interface HistoryEventRecord {
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** What every execution answer starts with: which execution, its status and dates (in epoch seconds on the wire). */
const identity = (execution: SfnExecutionRecord) => ({
  executionArn: execution.executionArn,
  stateMachineArn: execution.stateMachineArn,
  name: execution.name,
  status: execution.status,
  startDate: execution.startDate / 1000,
  ...(execution.stopDate !== undefined && { stopDate: execution.stopDate / 1000 }),
});

/** Called when StartExecution creates an execution: the local engine runs it. */
export type ExecutionStarter = (execution: SfnExecutionRecord) => void;

/** What StopExecution and RedriveExecution ask of whoever runs the executions; each says whether it could. */
export interface ExecutionControls {
  stop(executionArn: string): boolean;
  redrive(executionArn: string): boolean;
}

/** The Step Functions executions the local runner has reported or started, served through the API. */
export class StepFunctionsRegistry {
  private readonly executionsByArn = new Map<string, SfnExecutionRecord>();
  /** Each redriven execution as it was before its last redrive, and until when a lagging read still sees that. */
  private readonly beforeRedrive = new Map<string, { record: SfnExecutionRecord; until: number }>();

  /** How far DescribeExecution lags behind starts and redrives (the world's stepFunctionsReadLagSeconds). */
  private readonly readLagMs: number;

  constructor(readLagMs = 0) {
    this.readLagMs = readLagMs;
  }
  private readonly stateMachines = new Set<string>();
  private readonly histories = new Map<string, (HistoryEventRecord & { id: number; previousEventId: number })[]>();
  private starter: ExecutionStarter | undefined;
  private controls: ExecutionControls | undefined;

  putExecution(execution: SfnExecutionRecord): void {
    this.stateMachines.add(execution.stateMachineArn);
    this.executionsByArn.set(execution.executionArn, { ...this.executionsByArn.get(execution.executionArn), ...execution });
  }

  /** A state machine StartExecution may start, and who runs what it starts. */
  serveStateMachine(stateMachineArn: string, starter: ExecutionStarter): void {
    this.stateMachines.add(stateMachineArn);
    this.starter = starter;
  }

  /** Who stops and redrives executions; without it, both answer as for an execution that cannot. */
  controlExecutions(controls: ExecutionControls): void {
    this.controls = controls;
  }

  execution(executionArn: string): SfnExecutionRecord | undefined {
    return this.executionsByArn.get(executionArn);
  }

  /**
   * As AWS: a name is unique per state machine; the same name and input as a RUNNING execution
   * returns that execution (an idempotent retry), anything else is ExecutionAlreadyExists.
   */
  startExecution(input: unknown, now: number) {
    const request = parseRequest(startExecutionInput, input, ['input']);
    if (!stateMachineArnPattern.test(request.stateMachineArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${request.stateMachineArn}'`);
    }
    if (!this.stateMachines.has(request.stateMachineArn) || this.starter === undefined) {
      throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${request.stateMachineArn}'`);
    }
    // As AWS: an execution started without a name is named by a UUID (derived here, so runs repeat).
    const name = request.name ?? executionIdFor(`${request.stateMachineArn}/${now}/${this.executionsByArn.size}`);
    if (illegalNameCharacters.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    const executionInput = request.input ?? '{}';
    try {
      JSON.parse(executionInput);
    } catch {
      throw new AwsServiceError('InvalidExecutionInput', 'Invalid Execution Input: the input is not valid JSON');
    }
    const executionArn = `${request.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executionsByArn.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === executionInput) {
        return { executionArn, startDate: existing.startDate / 1000 };
      }
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: SfnExecutionRecord = {
      executionArn,
      stateMachineArn: request.stateMachineArn,
      name,
      status: 'RUNNING',
      startDate: now,
      input: executionInput,
      redriveCount: 0,
    };
    this.executionsByArn.set(executionArn, record);
    this.starter({ ...record });
    return { executionArn, startDate: now / 1000 };
  }

  /** The state machines the account has: those served, and those whose executions were reported. */
  listStateMachines(input: unknown, now: number) {
    const request = parseRequest(listStateMachinesInput, input);
    const { page, nextToken } = paginate({
      items: [...this.stateMachines].sort(),
      keyOf: (arn) => arn,
      maxResults: request.maxResults || 100,
      nextToken: request.nextToken,
      invalidToken: () => new AwsServiceError('InvalidToken', 'Invalid Token'),
    });
    const creationDate = Math.min(now, ...[...this.executionsByArn.values()].map((execution) => execution.startDate)) / 1000;
    return {
      stateMachines: page.map((stateMachineArn) => ({ stateMachineArn, name: stateMachineArn.split(':').at(-1)!, type: 'STANDARD', creationDate })),
      ...(nextToken !== undefined && { nextToken }),
    };
  }

  /**
   * Appends to an execution's history, numbering the event after the last. A history that has
   * ended (succeeded, failed, aborted, timed out) takes nothing more until a redrive reopens it:
   * what a stopped execution's work still reports is not history.
   */
  appendHistory(executionArn: string, event: HistoryEventRecord): void {
    const history = this.histories.get(executionArn) ?? [];
    if (closingEvents.has(history.at(-1)?.type ?? '') && event.type !== 'ExecutionRedriven') return;
    this.histories.set(executionArn, history);
    history.push({ ...event, id: history.length + 1, previousEventId: history.length });
  }

  hasHistory(executionArn: string): boolean {
    return (this.histories.get(executionArn)?.length ?? 0) > 0;
  }

  /**
   * As AWS: oldest first unless reverseOrder, 100 a page unless maxResults (0 means the default),
   * and without the states' and Lambdas' input and output when includeExecutionData is false.
   */
  getExecutionHistory(input: unknown) {
    const request = parseRequest(getExecutionHistoryInput, input);
    if (!executionArnPattern.test(request.executionArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${request.executionArn}'`);
    }
    if (!this.executionsByArn.has(request.executionArn)) {
      throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${request.executionArn}'`);
    }
    const history = this.histories.get(request.executionArn) ?? [];
    const ordered = request.reverseOrder ? [...history].reverse() : history;
    const { page, nextToken } = paginate({
      items: ordered,
      keyOf: (event) => String(event.id),
      maxResults: request.maxResults || 100,
      nextToken: request.nextToken,
      invalidToken: () => new AwsServiceError('InvalidToken', 'Invalid Token'),
    });
    const withData = request.includeExecutionData !== false;
    return { events: page.map((event) => (withData ? event : withoutData(event))), ...(nextToken !== undefined && { nextToken }) };
  }

  /**
   * As AWS: a running execution ends ABORTED now, with the error and cause given; its pipelines
   * go on. An execution already ended stays as it is.
   */
  stopExecution(input: unknown, now: number) {
    const request = parseRequest(stopExecutionInput, input, ['error', 'cause']);
    const execution = this.existing(request.executionArn);
    if (execution.status !== 'RUNNING') return { stopDate: (execution.stopDate ?? now) / 1000 };
    this.controls?.stop(execution.executionArn);
    // Written now, as AWS writes it: whatever the stopped work reports later is not history.
    this.appendHistory(execution.executionArn, {
      timestamp: now / 1000,
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { ...(request.error !== undefined && { error: request.error }), ...(request.cause !== undefined && { cause: request.cause }) },
    });
    this.executionsByArn.set(execution.executionArn, {
      ...execution,
      status: 'ABORTED',
      stopDate: now,
      ...(request.error !== undefined && { error: request.error }),
      ...(request.cause !== undefined && { cause: request.cause }),
    });
    return { stopDate: now / 1000 };
  }

  /** As AWS: a failed, stopped or timed-out execution goes on from where it ended, within 14 days of its end. */
  redriveExecution(input: unknown, now: number) {
    const request = parseRequest(redriveExecutionInput, input);
    const execution = this.existing(request.executionArn);
    const reason = notRedrivableReason(execution, now);
    if (reason !== undefined) throw new AwsServiceError('ExecutionNotRedrivable', reason);
    if (!this.controls?.redrive(execution.executionArn)) throw new AwsServiceError('ExecutionNotRedrivable', 'Execution history event limit exceeded.');
    this.reopen(execution, (execution.redriveCount ?? 0) + 1, now);
    return { redriveDate: now / 1000 };
  }

  /** A redriven execution runs again: no end, no error, until it ends again. */
  redriven(executionArn: string, redriveCount: number, now: number): void {
    this.reopen(this.existing(executionArn), redriveCount, now);
  }

  private reopen(execution: SfnExecutionRecord, redriveCount: number, now: number): void {
    if (this.readLagMs > 0) this.beforeRedrive.set(execution.executionArn, { record: execution, until: now + this.readLagMs });
    const { stopDate: _stopDate, error: _error, cause: _cause, output: _output, ...running } = execution;
    this.executionsByArn.set(execution.executionArn, { ...running, status: 'RUNNING', redriveCount, redriveDate: now });
  }

  private existing(executionArn: string): SfnExecutionRecord {
    if (!executionArnPattern.test(executionArn)) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    const execution = this.executionsByArn.get(executionArn);
    if (!execution) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  describeExecution(input: unknown, now = Number.NEGATIVE_INFINITY) {
    const request = parseRequest(describeExecutionInput, input);
    if (!executionArnPattern.test(request.executionArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${request.executionArn}'`);
    }
    const current = this.executionsByArn.get(request.executionArn);
    // Lagging (stepFunctionsReadLagSeconds): a start too recent is not found yet, a redrive too recent not seen yet.
    const lagging = this.readLagMs > 0 && current !== undefined && now < current.startDate + this.readLagMs;
    if (!current || lagging) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${request.executionArn}'`);
    const earlier = this.readLagMs > 0 ? this.beforeRedrive.get(request.executionArn) : undefined;
    const execution = earlier !== undefined && now < earlier.until ? earlier.record : current;
    const withData = request.includedData !== 'METADATA_ONLY';
    return {
      ...identity(execution),
      ...(withData && execution.input !== undefined && { input: execution.input, inputDetails: { included: true } }),
      ...(withData && execution.output !== undefined && { output: execution.output, outputDetails: { included: true } }),
      ...(execution.error !== undefined && { error: execution.error }),
      ...(execution.cause !== undefined && { cause: execution.cause }),
      redriveCount: execution.redriveCount ?? 0,
      ...(execution.redriveDate !== undefined && { redriveDate: execution.redriveDate / 1000 }),
      ...redrivability(execution, now),
    };
  }

  listExecutions(input: unknown) {
    const request = parseRequest(listExecutionsInput, input);
    // "You can specify either a mapRunArn or a stateMachineArn, but not both." No Map Runs are emulated.
    if ((request.stateMachineArn === undefined) === (request.mapRunArn === undefined)) {
      throw new AwsServiceError('ValidationException', 'Exactly one of stateMachineArn and mapRunArn must be given');
    }
    if (request.mapRunArn !== undefined) {
      throw new AwsServiceError('ResourceNotFound', `Resource not found: '${request.mapRunArn}'`);
    }
    // "If you provide a stateMachineArn and a PENDING_REDRIVE statusFilter, the API returns a validation exception."
    if (request.statusFilter === 'PENDING_REDRIVE') {
      throw new AwsServiceError('ValidationException', 'The PENDING_REDRIVE statusFilter is supported only with a mapRunArn');
    }
    const stateMachineArn = request.stateMachineArn!;
    const parts = stateMachineArnPattern.exec(stateMachineArn);
    if (!parts) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    const [, unqualifiedArn, qualifier] = parts;
    const ofStateMachine = [...this.executionsByArn.values()].filter(
      (execution) => execution.stateMachineArn === unqualifiedArn,
    );
    // A state machine is known once it is served, or the runner has reported one of its executions.
    if (ofStateMachine.length === 0 && !this.stateMachines.has(unqualifiedArn!)) {
      throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    }
    // A version or alias ARN lists the executions started through that version or alias.
    const qualified =
      qualifier === undefined
        ? ofStateMachine
        : ofStateMachine.filter(
            (execution) =>
              execution.stateMachineVersionArn === stateMachineArn || execution.stateMachineAliasArn === stateMachineArn,
          );
    const redriven = (execution: SfnExecutionRecord) => (execution.redriveCount ?? 0) > 0;
    // Reversing before the stable sort puts the later-reported of two same-instant starts first.
    const newestFirst = qualified
      .filter((execution) => request.statusFilter === undefined || execution.status === request.statusFilter)
      .filter((execution) => request.redriveFilter === undefined || redriven(execution) === (request.redriveFilter === 'REDRIVEN'))
      .reverse()
      .sort((a, b) => b.startDate - a.startDate);
    const { page, nextToken } = paginate({
      items: newestFirst,
      keyOf: (execution) => execution.executionArn,
      // "A value of 0 uses the default" of 100 (ListExecutions reference).
      maxResults: request.maxResults || 100,
      nextToken: request.nextToken,
      invalidToken: () => new AwsServiceError('InvalidToken', 'Invalid Token'),
    });
    return {
      executions: page.map((execution) => ({
        ...identity(execution),
        ...(execution.stateMachineVersionArn !== undefined && { stateMachineVersionArn: execution.stateMachineVersionArn }),
        ...(execution.stateMachineAliasArn !== undefined && { stateMachineAliasArn: execution.stateMachineAliasArn }),
        ...(execution.redriveCount !== undefined && { redriveCount: execution.redriveCount }),
        ...(execution.redriveDate !== undefined && { redriveDate: execution.redriveDate / 1000 }),
      })),
      ...(nextToken !== undefined && { nextToken }),
    };
  }
}

/**
 * DescribeExecution's redriveStatus: a failed, aborted or timed-out execution may be redriven for
 * 14 days; otherwise NOT_REDRIVABLE with the reason, in the words the API reference lists.
 */
function redrivability(execution: SfnExecutionRecord, now: number): { redriveStatus: string; redriveStatusReason?: string } {
  const notRedrivable = (redriveStatusReason: string) => ({ redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason });
  if (execution.status === 'RUNNING' || execution.status === 'SUCCEEDED') {
    return notRedrivable(`Execution is ${execution.status} and cannot be redriven.`);
  }
  if (now - (execution.stopDate ?? execution.startDate) > redrivableForMs) return notRedrivable('Execution redrivable period exceeded.');
  return { redriveStatus: 'REDRIVABLE' };
}

/** Why RedriveExecution would refuse the execution now, in the words of DescribeExecution's redriveStatusReason. */
const notRedrivableReason = (execution: SfnExecutionRecord, now: number): string | undefined => redrivability(execution, now).redriveStatusReason;

/** An event's details without the execution data (input, output and their details). */
function withoutData<Event extends HistoryEventRecord>(event: Event): Event {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) continue;
    const { input: _input, inputDetails: _inputDetails, output: _output, outputDetails: _outputDetails, parameters: _parameters, ...rest } = value as Record<string, unknown>;
    copy[key] = rest;
  }
  return copy as Event;
}
