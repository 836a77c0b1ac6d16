import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AwsServiceError } from './errors.js';
import { awsPayload, awsString, parseRequest } from './validation.js';
import { maxExecutionInputBytes } from '../../src/names.js';

/** How a callback Task's wait ended, as the engine sees it. */
export type TaskEnd = { kind: 'succeeded'; output: unknown } | { kind: 'failed'; error: string; cause: string };

interface OpenTask {
  executionArn: string;
  settle: (end: TaskEnd) => void;
}

// From the Step Functions API reference: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.
const taskToken = awsString({ min: 1, max: 2048 });
// A task's output has an execution input's limit: 256 KiB of UTF-8.
const output = awsPayload(maxExecutionInputBytes);
const sendTaskSuccessInput = z.object({ taskToken, output });
const sendTaskFailureInput = z.object({ taskToken, error: awsString({ max: 256 }).optional(), cause: awsString({ max: 32_768 }).optional() });
const sendTaskHeartbeatInput = z.object({ taskToken });

/** The shape every token this emulator issues has: anything else is InvalidToken, as on AWS. */
const tokenPattern = /^AQ[A-Za-z0-9+/=]{40,}$/;

/**
 * Step Functions' task tokens: the local engine opens one per callback wait, SendTaskSuccess (or
 * Failure) closes it and wakes the wait. Answers as AWS does: a token it never issued is
 * InvalidToken (malformed) or TaskDoesNotExist; a token whose wait ended (completed, timed out,
 * or its execution stopped) is TaskTimedOut; an output that is not JSON is InvalidOutput.
 */
export class TaskTokens {
  private readonly open = new Map<string, OpenTask>();
  private readonly closed = new Set<string>();

  /** A fresh token for a wait of `executionArn`; `settle` hears how it ended. */
  issue(executionArn: string, settle: (end: TaskEnd) => void): string {
    const token = `AQ${randomBytes(48).toString('base64')}`;
    this.open.set(token, { executionArn, settle });
    return token;
  }

  /** The wait ended on its own (timed out, or the execution stopped): later calls get TaskTimedOut. */
  close(token: string): void {
    this.open.delete(token);
    this.closed.add(token);
  }

  readonly operations = {
    SendTaskSuccess: (input: unknown) => {
      const request = parseRequest(sendTaskSuccessInput, input, ['taskToken', 'output']);
      let output: unknown;
      try {
        output = JSON.parse(request.output);
      } catch {
        throw new AwsServiceError('InvalidOutput', 'The provided JSON output data is invalid');
      }
      this.take(request.taskToken).settle({ kind: 'succeeded', output });
      return {};
    },
    SendTaskFailure: (input: unknown) => {
      const request = parseRequest(sendTaskFailureInput, input, ['taskToken', 'error', 'cause']);
      this.take(request.taskToken).settle({ kind: 'failed', error: request.error ?? '', cause: request.cause ?? '' });
      return {};
    },
    SendTaskHeartbeat: (input: unknown) => {
      const request = parseRequest(sendTaskHeartbeatInput, input, ['taskToken']);
      this.find(request.taskToken);
      return {};
    },
  };

  private take(token: string): OpenTask {
    const task = this.find(token);
    this.close(token);
    return task;
  }

  private find(token: string): OpenTask {
    const task = this.open.get(token);
    if (task) return task;
    if (this.closed.has(token)) throw new AwsServiceError('TaskTimedOut', 'Task Timed Out');
    if (!tokenPattern.test(token)) throw new AwsServiceError('InvalidToken', 'Invalid Token');
    throw new AwsServiceError('TaskDoesNotExist', 'Task does not exist anymore');
  }
}
