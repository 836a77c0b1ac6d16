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
}

const stateMachineArnPattern = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_.-]+$/;

// Constraints from the Step Functions API reference.
const listExecutionsInput = z.object({
  stateMachineArn: awsString({ min: 1, max: 256 }),
  statusFilter: awsEnum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']).optional(),
  maxResults: awsInteger({ min: 0, max: 1000 }).optional(),
  nextToken: awsString({ min: 1, max: 3096 }).optional(),
});

/** The Step Functions executions the local runner has reported, served through ListExecutions. */
export class StepFunctionsRegistry {
  private readonly executionsByArn = new Map<string, SfnExecutionRecord>();

  putExecution(execution: SfnExecutionRecord): void {
    this.executionsByArn.set(execution.executionArn, { ...execution });
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
