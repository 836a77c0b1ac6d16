import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { toNamedAwsError } from './aws-errors.js';

/** Created once; AWS_ENDPOINT_URL_SFN points it at the local engine's emulator. */
export const stepFunctions = new SFNClient({ maxAttempts: 4, retryMode: 'standard' });

export interface RunningExecution {
  executionArn: string;
  name: string;
  startDate?: Date;
}

export async function listRunningExecutions(stateMachineArn: string): Promise<RunningExecution[]> {
  const running: RunningExecution[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const response = await stepFunctions.send(
        new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 100, nextToken }),
      );
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
