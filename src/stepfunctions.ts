import type { GetExecutionHistoryCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { toNamedAwsError } from './aws-errors.js';
import { clientSettings } from './client-settings.js';
import { AwsUnavailable, InvalidInput } from './errors.js';
import { timesOf } from './duration.js';

type StepFunctionsSdk = typeof import('@aws-sdk/client-sfn');

let loaded: Promise<{ sdk: StepFunctionsSdk; client: SFNClient }> | undefined;

/**
 * The Step Functions client, loaded at its first use, then kept: decide-order, start-pipeline,
 * check-status and the notifier call Step Functions only on rare paths (a lock held by another
 * run, polling's single flight, a redrive, a continuation's predecessor), so the SDK's Step
 * Functions code is a chunk of its own, outside their cold start (esbuild's `splitting`).
 * AWS_ENDPOINT_URL_SFN points it at the local engine's emulator.
 */
export function stepFunctions(): Promise<{ sdk: StepFunctionsSdk; client: SFNClient }> {
  loaded ??= import('@aws-sdk/client-sfn').then((sdk) => ({ sdk, client: new sdk.SFNClient(clientSettings) }));
  return loaded;
}

export interface RunningExecution {
  executionArn: string;
  name: string;
  startDate?: Date;
}

export async function listRunningExecutions(stateMachineArn: string): Promise<RunningExecution[]> {
  const running: RunningExecution[] = [];
  let nextToken: string | undefined;
  try {
    const { sdk, client } = await stepFunctions();
    do {
      const response = await client.send(new sdk.ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 100, nextToken }));
      for (const execution of response.executions ?? []) {
        running.push({ executionArn: execution.executionArn!, name: execution.name!, startDate: execution.startDate });
      }
      nextToken = response.nextToken;
    } while (nextToken);
  } catch (error) {
    throw toNamedAwsError(error, 'ListExecutions');
  }
  return running;
}

export interface DescribedExecution {
  status: string;
  output?: string;
}

/** One execution's status and output: how a continued run checks the predecessor it claims. */
export async function describeExecution(executionArn: string): Promise<DescribedExecution> {
  try {
    const { sdk, client } = await stepFunctions();
    const { status, output } = await client.send(new sdk.DescribeExecutionCommand({ executionArn }));
    return { status: status ?? 'UNKNOWN', ...(output !== undefined ? { output } : {}) };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'ExecutionDoesNotExist' || name === 'InvalidArn') {
      throw new InvalidInput(`continuation: there is no execution ${executionArn} to continue`, { cause: error });
    }
    throw toNamedAwsError(error, `DescribeExecution ${executionArn}`);
  }
}

/**
 * When the execution asking was last redriven (DescribeExecution's redriveDate, in ms): a redrive
 * restarts what had failed before it, never what failed after it. DescribeExecution is eventually
 * consistent: an answer that does not know the execution, or counts fewer redrives than the
 * execution itself does ($$.Execution.RedriveCount), has not caught up yet, and its redriveDate
 * would be an earlier redrive's. Either is AwsUnavailable, which the state machine retries.
 */
export async function lastRedriveTime(executionArn: string, redriveCount: number): Promise<number | undefined> {
  const behind = (answer: string, cause?: unknown) =>
    new AwsUnavailable(`DescribeExecution ${executionArn}: ${answer}, though this execution has been redriven ${timesOf(redriveCount)}: Step Functions has not caught up yet (DescribeExecution is eventually consistent)`, { cause });
  let described: { redriveDate?: Date; redriveCount?: number };
  try {
    const { sdk, client } = await stepFunctions();
    described = await client.send(new sdk.DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if ((error as { name?: string } | null)?.name === 'ExecutionDoesNotExist') throw behind('ExecutionDoesNotExist', error);
    throw toNamedAwsError(error, `DescribeExecution ${executionArn}`);
  }
  if ((described.redriveCount ?? 0) < redriveCount) throw behind(`it counts ${described.redriveCount ?? 0} redrives`);
  return described.redriveDate?.getTime();
}

/** One event of an execution's history, as much of it as a reader here needs. */
export interface HistoryStep {
  type: string;
  /** Epoch milliseconds. */
  at: number;
  /** The state a *StateEntered or *StateExited event names. */
  stateName?: string;
  /** The error an ExecutionFailed event names. */
  error?: string;
}

/**
 * The execution's history, newest event first, without inputs and outputs, a page of 100 at a
 * time, at most `maxPages` pages: the reader stops early by returning from its loop.
 */
export async function* historyBackwards(executionArn: string, maxPages: number): AsyncGenerator<HistoryStep> {
  const { sdk, client } = await stepFunctions();
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    let response: GetExecutionHistoryCommandOutput;
    try {
      response = await client.send(new sdk.GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100, includeExecutionData: false, nextToken }));
    } catch (error) {
      throw toNamedAwsError(error, `GetExecutionHistory ${executionArn}`);
    }
    for (const event of response.events ?? []) {
      const stateName = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
      const error = event.executionFailedEventDetails?.error;
      yield { type: event.type ?? '', at: event.timestamp?.getTime() ?? 0, ...(stateName !== undefined && { stateName }), ...(error !== undefined && { error }) };
    }
    nextToken = response.nextToken;
    if (!nextToken) return;
  }
}
