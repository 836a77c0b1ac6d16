import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  StartPipelineExecutionCommand,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { PipelineNotFound } from './errors.js';
import { isNamed, toNamedAwsError } from './aws-errors.js';

/**
 * Created once at module load. Region and endpoint come from the SDK's own configuration
 * (AWS_REGION, AWS_ENDPOINT_URL_CODEPIPELINE), which is how the local engine points it at the
 * emulator. Retries are set on purpose: 4 attempts in standard mode absorb a throttling burst
 * in about a second, well inside the functions' timeouts; what still fails is retried by the
 * state machine with longer backoff.
 */
export const codePipeline = new CodePipelineClient({ maxAttempts: 4, retryMode: 'standard' });

export type PipelineType = 'V1' | 'V2';

export async function getPipelineType(pipelineName: string): Promise<PipelineType> {
  try {
    const { pipeline } = await codePipeline.send(new GetPipelineCommand({ name: pipelineName }));
    return pipeline?.pipelineType === 'V1' ? 'V1' : 'V2';
  } catch (error) {
    if (isNamed(error, 'PipelineNotFoundException')) {
      throw new PipelineNotFound(`pipeline '${pipelineName}' does not exist in this account and region`, { cause: error });
    }
    throw toNamedAwsError(error, `GetPipeline ${pipelineName}`);
  }
}

export async function startExecution(request: {
  pipelineName: string;
  variables: Record<string, string>;
  clientRequestToken: string;
}): Promise<string> {
  const variables = Object.entries(request.variables).map(([name, value]) => ({ name, value }));
  try {
    const { pipelineExecutionId } = await codePipeline.send(
      new StartPipelineExecutionCommand({
        name: request.pipelineName,
        clientRequestToken: request.clientRequestToken,
        ...(variables.length > 0 ? { variables } : {}),
      }),
    );
    return pipelineExecutionId!;
  } catch (error) {
    if (isNamed(error, 'PipelineNotFoundException')) {
      throw new PipelineNotFound(`pipeline '${request.pipelineName}' does not exist any more`, { cause: error });
    }
    throw toNamedAwsError(error, `StartPipelineExecution ${request.pipelineName}`);
  }
}

export interface ExecutionStatus {
  status: string;
  statusSummary?: string;
}

export async function getExecution(pipelineName: string, pipelineExecutionId: string): Promise<ExecutionStatus> {
  try {
    const { pipelineExecution } = await codePipeline.send(
      new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }),
    );
    return {
      status: pipelineExecution?.status ?? 'Unknown',
      ...(pipelineExecution?.statusSummary ? { statusSummary: pipelineExecution.statusSummary } : {}),
    };
  } catch (error) {
    if (isNamed(error, 'PipelineNotFoundException') || isNamed(error, 'PipelineExecutionNotFoundException')) {
      throw new PipelineNotFound(
        `CodePipeline has no execution ${pipelineExecutionId} of '${pipelineName}' any more (was the pipeline deleted?)`,
        { cause: error },
      );
    }
    throw toNamedAwsError(error, `GetPipelineExecution ${pipelineName} ${pipelineExecutionId}`);
  }
}

/** Recent executions, newest first, reading at most `maxPages` pages. */
export async function listRecentExecutions(
  pipelineName: string,
  options: { maxPages: number; pageSize: number },
): Promise<PipelineExecutionSummary[]> {
  const summaries: PipelineExecutionSummary[] = [];
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < options.maxPages; page += 1) {
      const response = await codePipeline.send(
        new ListPipelineExecutionsCommand({ pipelineName, maxResults: options.pageSize, nextToken }),
      );
      summaries.push(...(response.pipelineExecutionSummaries ?? []));
      nextToken = response.nextToken;
      if (!nextToken) break;
    }
  } catch (error) {
    throw toNamedAwsError(error, `ListPipelineExecutions ${pipelineName}`);
  }
  return summaries;
}
