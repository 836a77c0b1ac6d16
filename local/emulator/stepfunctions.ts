import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { AwsServiceError } from './errors.js';
import { paginate } from './paging.js';
import { awsEnum, awsInteger, awsString, parseRequest } from './validation.js';

/** A state machine execution as the runner reports it; dates in epoch milliseconds. */
export interface SfnExecutionRecord {
  executionArn: string;
  /** The unqualified state machine ARN, even when the execution was started through a version or an alias. */
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
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

/** The Step Functions executions the local runner has reported, served through ListExecutions. */
export class StepFunctionsRegistry {
  private readonly executionsByArn = new Map<string, SfnExecutionRecord>();

  putExecution(execution: SfnExecutionRecord): void {
    this.executionsByArn.set(execution.executionArn, { ...execution });
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
    const stateMachineArn = request.stateMachineArn!;
    const parts = stateMachineArnPattern.exec(stateMachineArn);
    if (!parts) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    const [, unqualifiedArn, qualifier] = parts;
    const ofStateMachine = [...this.executionsByArn.values()].filter(
      (execution) => execution.stateMachineArn === unqualifiedArn,
    );
    // A state machine is known once the runner has reported one of its executions.
    if (ofStateMachine.length === 0) {
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
        executionArn: execution.executionArn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate / 1000,
        ...(execution.stopDate !== undefined && { stopDate: execution.stopDate / 1000 }),
        ...(execution.stateMachineVersionArn !== undefined && { stateMachineVersionArn: execution.stateMachineVersionArn }),
        ...(execution.stateMachineAliasArn !== undefined && { stateMachineAliasArn: execution.stateMachineAliasArn }),
        ...(execution.redriveCount !== undefined && { redriveCount: execution.redriveCount }),
        ...(execution.redriveDate !== undefined && { redriveDate: execution.redriveDate / 1000 }),
      })),
      ...(nextToken !== undefined && { nextToken }),
    };
  }
}
