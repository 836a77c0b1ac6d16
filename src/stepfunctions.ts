import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { toNamedAwsError } from './aws-errors.js';
import { InvalidInput } from './errors.js';

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

export interface DescribedExecution {
  status: string;
  output?: string;
}

/** One execution's status and output: how a continued run checks the predecessor it claims. */
export async function describeExecution(executionArn: string): Promise<DescribedExecution> {
  try {
    const { status, output } = await stepFunctions.send(new DescribeExecutionCommand({ executionArn }));
    return { status: status ?? 'UNKNOWN', ...(output !== undefined ? { output } : {}) };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'ExecutionDoesNotExist' || name === 'InvalidArn') {
      throw new InvalidInput(`continuation: there is no execution ${executionArn} to continue`, { cause: error });
    }
    throw toNamedAwsError(error, `DescribeExecution ${executionArn}`);
  }
}
