import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  StartPipelineExecutionCommand,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { toNamedAwsError } from './aws-errors.js';

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
    throw toNamedAwsError(
      error,
      `GetPipeline ${pipelineName}`,
      `pipeline '${pipelineName}' does not exist in this account and region`,
    );
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
    throw toNamedAwsError(
      error,
      `StartPipelineExecution ${request.pipelineName}`,
      `pipeline '${request.pipelineName}' does not exist any more`,
    );
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
    throw toNamedAwsError(
      error,
      `GetPipelineExecution ${pipelineName} ${pipelineExecutionId}`,
      `CodePipeline has no execution ${pipelineExecutionId} of '${pipelineName}' any more (was the pipeline deleted?)`,
    );
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
    // A pipeline deleted mid-run is PipelineNotFound here too, not a refusal: the same fact as above.
    throw toNamedAwsError(error, `ListPipelineExecutions ${pipelineName}`, `pipeline '${pipelineName}' does not exist any more`);
  }
  return summaries;
}
