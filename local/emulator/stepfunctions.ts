import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { AwsServiceError } from './errors.js';
import { paginate } from './paging.js';
import { awsEnum, awsInteger, awsString, parseRequest } from './validation.js';

/** A state machine execution as the runner reports it; dates in epoch milliseconds. */
export interface SfnExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount?: number;
}

const stateMachineArnPattern = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_.-]+$/;

// Constraints from the Step Functions API reference.
const listExecutionsInput = z.object({
  stateMachineArn: awsString({ min: 1, max: 256 }),
  statusFilter: awsEnum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']).optional(),
  maxResults: awsInteger({ min: 0, max: 1000 }).optional(),
  nextToken: awsString({ min: 1, max: 3096 }).optional(),
});

// StartExecution and DescribeExecution, from the Step Functions API reference.
const startExecutionInput = z.object({
  stateMachineArn: awsString({ min: 1, max: 256 }),
  name: awsString({ min: 1, max: 80 }).optional(),
  input: awsString({ max: 262_144 }).optional(),
  traceHeader: awsString({ max: 256 }).optional(),
});
const describeExecutionInput = z.object({
  executionArn: awsString({ min: 1, max: 256 }),
  includedData: awsEnum(['ALL_DATA', 'METADATA_ONLY']).optional(),
});
/** Names may not hold white space, brackets, wildcards, these punctuation marks, or control characters (StartExecution). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what AWS forbids here
const illegalNameCharacters = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;
const executionArnPattern = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_.-]+:[^:]+$/;

/** Called when StartExecution creates an execution: the local engine runs it. */
export type ExecutionStarter = (execution: SfnExecutionRecord) => void;

/** The Step Functions executions the local runner has reported or started, served through the API. */
export class StepFunctionsRegistry {
  private readonly executionsByArn = new Map<string, SfnExecutionRecord>();
  private readonly stateMachines = new Set<string>();
  private starter: ExecutionStarter | undefined;

  putExecution(execution: SfnExecutionRecord): void {
    this.stateMachines.add(execution.stateMachineArn);
    this.executionsByArn.set(execution.executionArn, { ...this.executionsByArn.get(execution.executionArn), ...execution });
  }

  /** A state machine StartExecution may start, and who runs what it starts. */
  serveStateMachine(stateMachineArn: string, starter: ExecutionStarter): void {
    this.stateMachines.add(stateMachineArn);
    this.starter = starter;
  }

  execution(executionArn: string): SfnExecutionRecord | undefined {
    return this.executionsByArn.get(executionArn);
  }

  /**
   * As AWS: a name is unique per state machine; the same name and input as a RUNNING execution
   * returns that execution (an idempotent retry), anything else is ExecutionAlreadyExists.
   */
  startExecution(input: unknown, now: number) {
    const request = parseRequest(startExecutionInput, input);
    if (!stateMachineArnPattern.test(request.stateMachineArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${request.stateMachineArn}'`);
    }
    if (!this.stateMachines.has(request.stateMachineArn) || this.starter === undefined) {
      throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${request.stateMachineArn}'`);
    }
    const name = request.name ?? `${now.toString(16)}-${this.executionsByArn.size}`;
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

  describeExecution(input: unknown) {
    const request = parseRequest(describeExecutionInput, input);
    if (!executionArnPattern.test(request.executionArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${request.executionArn}'`);
    }
    const execution = this.executionsByArn.get(request.executionArn);
    if (!execution) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${request.executionArn}'`);
    const withData = request.includedData !== 'METADATA_ONLY';
    return {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate / 1000,
      ...(execution.stopDate !== undefined && { stopDate: execution.stopDate / 1000 }),
      ...(withData && execution.input !== undefined && { input: execution.input, inputDetails: { included: true } }),
      ...(withData && execution.output !== undefined && { output: execution.output, outputDetails: { included: true } }),
      ...(execution.error !== undefined && { error: execution.error }),
      ...(execution.cause !== undefined && { cause: execution.cause }),
      redriveCount: execution.redriveCount ?? 0,
      redriveStatus: execution.status === 'FAILED' ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
    };
  }

  listExecutions(input: unknown) {
    const request = parseRequest(listExecutionsInput, input);
    if (!stateMachineArnPattern.test(request.stateMachineArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${request.stateMachineArn}'`);
    }
    const ofStateMachine = [...this.executionsByArn.values()].filter(
      (execution) => execution.stateMachineArn === request.stateMachineArn,
    );
    // A state machine is known once the runner has reported one of its executions.
    if (ofStateMachine.length === 0) {
      throw new AwsServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${request.stateMachineArn}'`,
      );
    }
    // Reversing before the stable sort puts the later-reported of two same-instant starts first.
    const newestFirst = ofStateMachine
      .filter((execution) => request.statusFilter === undefined || execution.status === request.statusFilter)
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
        executionArn: execution.executionArn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate / 1000,
        ...(execution.stopDate !== undefined && { stopDate: execution.stopDate / 1000 }),
      })),
      ...(nextToken !== undefined && { nextToken }),
    };
  }
}
