import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  StartPipelineExecutionCommand,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { toNamedAwsError } from './aws-errors.js';
import { clientSettings } from './client-settings.js';
import { codePipelineFor, isAssumeRoleFailure } from './accounts.js';
import { stageConfig } from './config.js';
import type { Member } from './run.js';
import { AwsUnavailable, PipelineAccessDenied, oneLine } from './errors.js';
import { describeLocation, locationOf, targetOf, type PipelineTarget } from './targets.js';

/**
 * Created once at module load, with the functions' client settings (src/client-settings.ts).
 * Region and endpoint come from the SDK's own configuration (AWS_REGION,
 * AWS_ENDPOINT_URL_CODEPIPELINE), which is how the local engine points it at the emulator.
 */
export const codePipeline = new CodePipelineClient(clientSettings);

/**
 * Every function below takes the sequencer's name for a pipeline and reaches it where the stage
 * says it lives: the functions' own client for a local pipeline, else a client signing with that
 * account's role, in that region, under the pipeline's own CodePipeline name.
 */
async function reach(name: string): Promise<{ target: PipelineTarget; client: CodePipelineClient; pipelineName: string }> {
  const target = targetOf(stageConfig(), name);
  return { target, client: await codePipelineFor(target, codePipeline), pipelineName: target.pipelineName };
}

/**
 * Where a pipeline elsewhere is, as a failure's cause names it beside its execution id: ` in
 * account 222233334444, eu-west-1 (pipeline deploy-api)`, so that whoever reads it knows which
 * account's console to open; nothing for a pipeline in the functions' own account and region.
 */
export function whereIs(member: Pick<Member, 'pipelineName' | 'location'>): string {
  // Where it was started (a redeploy mid-run may have moved the stage's entry), else where the stage says.
  const location = member.location ?? locationOf(targetOf(stageConfig(), member.pipelineName));
  if (!location) return '';
  return ` in account ${location.accountId}, ${location.region}${location.pipelineName === member.pipelineName ? '' : ` (pipeline ${location.pipelineName})`}`;
}

const accessDenied = new Set(['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException']);

/** toNamedAwsError, but a pipeline elsewhere says where it is, and a refusal there is PipelineAccessDenied. */
function failure(error: unknown, target: PipelineTarget, request: string, gone: string): Error {
  if (!target.remote) return toNamedAwsError(error, request, gone);
  // The request names the stage's name for the pipeline (`GetPipeline deploy-prod`): then where it is.
  const where = describeLocation({ ...target, remote: target.remote });
  // AssumeRole failed (src/accounts.ts named it): say which pipeline the call was for.
  if (isAssumeRoleFailure(error)) {
    const named = error instanceof PipelineAccessDenied ? PipelineAccessDenied : AwsUnavailable;
    return new named(`${request}: cannot reach ${where}: ${error.message}`, { cause: error });
  }
  const name = (error as { name?: string }).name ?? '';
  if (accessDenied.has(name)) {
    const message = (error as { message?: string }).message;
    return new PipelineAccessDenied(`${request} (${where}): ${name}${message ? `: ${message}` : ''}`, { cause: error });
  }
  return toNamedAwsError(error, `${request} (${where})`, `${gone.replace(' in this account and region', '')} in account ${target.remote.accountId}, region ${target.remote.region}`);
}

/** What vanished, as CodePipeline tells the two apart: the pipeline itself, or only this execution of it. */
function executionGone(error: unknown, pipelineName: string, pipelineExecutionId: string): string {
  if ((error as { name?: string } | null)?.name === 'PipelineNotFoundException') {
    return `pipeline '${pipelineName}' does not exist any more (deleted while the run watched its execution ${pipelineExecutionId})`;
  }
  return `CodePipeline has no execution ${pipelineExecutionId} of '${pipelineName}' any more (was the pipeline deleted and created again?)`;
}

export type PipelineType = 'V1' | 'V2';

export interface PipelineDescription {
  type: PipelineType;
  /** Its actions' namespaces: what `#{<pipeline>.<namespace>.<variable>}` may name. */
  namespaces: string[];
  /** Its pipeline-level variables. */
  variables: string[];
  /** The pipeline-level variables declared without a default value: every start must give them. */
  requiredVariables: string[];
}

/** One GetPipeline: the pipeline exists, and what a reference to it may name. */
export async function describePipeline(name: string): Promise<PipelineDescription> {
  const { target, client, pipelineName } = await reach(name);
  try {
    const { pipeline } = await client.send(new GetPipelineCommand({ name: pipelineName }));
    return {
      type: pipeline?.pipelineType === 'V1' ? 'V1' : 'V2',
      namespaces: (pipeline?.stages ?? []).flatMap((stage) => (stage.actions ?? []).flatMap((action) => action.namespace ?? [])),
      variables: (pipeline?.variables ?? []).flatMap((variable) => variable.name ?? []),
      requiredVariables: (pipeline?.variables ?? []).flatMap((variable) =>
        variable.name !== undefined && variable.defaultValue === undefined ? [variable.name] : [],
      ),
    };
  } catch (error) {
    throw failure(error, target, `GetPipeline ${name}`, `pipeline '${pipelineName}' does not exist in this account and region`);
  }
}

export async function startExecution(request: {
  pipelineName: string;
  variables: Record<string, string>;
  clientRequestToken: string;
}): Promise<string> {
  const variables = Object.entries(request.variables).map(([name, value]) => ({ name, value }));
  const { target, client, pipelineName } = await reach(request.pipelineName);
  try {
    const { pipelineExecutionId } = await client.send(
      new StartPipelineExecutionCommand({
        name: pipelineName,
        clientRequestToken: request.clientRequestToken,
        ...(variables.length > 0 ? { variables } : {}),
      }),
    );
    return pipelineExecutionId!;
  } catch (error) {
    throw failure(error, target, `StartPipelineExecution ${request.pipelineName}`, `pipeline '${pipelineName}' does not exist any more`);
  }
}

export interface ExecutionStatus {
  status: string;
  statusSummary?: string;
  /** The pipeline-level variables the execution resolved (given at start, else the defaults). */
  variables?: Record<string, string>;
  /** SUPERSEDED, QUEUED or PARALLEL, as the execution says (a V1 pipeline's says nothing). */
  executionMode?: string;
}

export async function getExecution(name: string, pipelineExecutionId: string): Promise<ExecutionStatus> {
  const { target, client, pipelineName } = await reach(name);
  try {
    const { pipelineExecution } = await client.send(
      new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }),
    );
    const variables = (pipelineExecution?.variables ?? []).flatMap(({ name, resolvedValue }) =>
      name !== undefined && resolvedValue !== undefined ? [[name, resolvedValue] as const] : [],
    );
    return {
      status: pipelineExecution?.status ?? 'Unknown',
      // Free text, a build's log excerpt sometimes: several lines, which every place that quotes it reads as one.
      ...(pipelineExecution?.statusSummary ? { statusSummary: oneLine(pipelineExecution.statusSummary) } : {}),
      ...(variables.length > 0 ? { variables: Object.fromEntries(variables) } : {}),
      ...(pipelineExecution?.executionMode !== undefined && { executionMode: pipelineExecution.executionMode }),
    };
  } catch (error) {
    throw failure(error, target, `GetPipelineExecution ${name} ${pipelineExecutionId}`, executionGone(error, pipelineName, pipelineExecutionId));
  }
}

/**
 * Whether a Failed execution can still be retried (RetryStageExecution): only while it is the
 * latest execution of the stage it failed in, which GetPipelineState shows as that stage's
 * `latestExecution`, Failed. Once a later execution has entered that stage (a push, a manual
 * start), CodePipeline refuses the retry (NotLatestPipelineExecution): that execution and stage
 * are returned then. Undefined while it can be retried, or when nothing says otherwise.
 */
export async function retryOvertaken(name: string, pipelineExecutionId: string): Promise<{ laterExecutionId: string; stageName: string } | undefined> {
  const { target, client, pipelineName } = await reach(name);
  try {
    const { stageStates = [] } = await client.send(new GetPipelineStateCommand({ name: pipelineName }));
    if (stageStates.some(({ latestExecution }) => latestExecution?.pipelineExecutionId === pipelineExecutionId && latestExecution.status === 'Failed')) return undefined;
    // Ours shows Failed nowhere: the stage it failed in (its Failed action says which) has run a later execution.
    const { actionExecutionDetails = [] } = await client.send(new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId } }));
    const failedIn = actionExecutionDetails.find((detail) => detail.status === 'Failed')?.stageName;
    const later = stageStates.find((stage) => stage.stageName === failedIn)?.latestExecution?.pipelineExecutionId;
    if (failedIn === undefined || later === undefined || later === pipelineExecutionId) return undefined;
    return { laterExecutionId: later, stageName: failedIn };
  } catch (error) {
    throw failure(error, target, `GetPipelineState ${name} (can ${pipelineExecutionId} still be retried?)`, executionGone(error, pipelineName, pipelineExecutionId));
  }
}

/** Recent executions, newest first, reading at most `maxPages` pages. */
export async function listRecentExecutions(name: string, options: { maxPages: number; pageSize: number; until?: string }): Promise<PipelineExecutionSummary[]> {
  const found = (page: PipelineExecutionSummary[]) => options.until !== undefined && page.some((summary) => summary.pipelineExecutionId === options.until);
  return (await pageExecutions(name, options.pageSize, options.maxPages, found)).summaries;
}

/**
 * Every execution that started at `since` (epoch ms) or later, newest first, and whether the
 * pages reached back that far (`complete`) within `maxPages`.
 */
export async function listExecutionsSince(name: string, since: number, maxPages: number): Promise<{ summaries: PipelineExecutionSummary[]; complete: boolean }> {
  const read = await pageExecutions(name, 100, maxPages, (page) => (page.at(-1)?.startTime?.getTime() ?? Infinity) < since);
  return { summaries: read.summaries.filter((summary) => (summary.startTime?.getTime() ?? 0) >= since), complete: read.complete };
}

/** Pages of ListPipelineExecutions, newest first, until there are no more, `maxPages` were read, or a page is `farEnough`. */
async function pageExecutions(
  name: string,
  pageSize: number,
  maxPages: number,
  farEnough: (page: PipelineExecutionSummary[]) => boolean,
): Promise<{ summaries: PipelineExecutionSummary[]; complete: boolean }> {
  const summaries: PipelineExecutionSummary[] = [];
  let nextToken: string | undefined;
  const { target, client, pipelineName } = await reach(name);
  try {
    for (let read = 0; read < maxPages; read += 1) {
      const response = await client.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: pageSize, nextToken }));
      const page = response.pipelineExecutionSummaries ?? [];
      summaries.push(...page);
      nextToken = response.nextToken;
      if (!nextToken || farEnough(page)) return { summaries, complete: true };
    }
  } catch (error) {
    // A pipeline deleted mid-run is PipelineNotFound here too, not a refusal: the same fact as above.
    throw failure(error, target, `ListPipelineExecutions ${name}`, `pipeline '${pipelineName}' does not exist any more`);
  }
  return { summaries, complete: false };
}

export interface ActionOutputs {
  actionName: string;
  namespace?: string;
  status: string;
  /** Epoch milliseconds. */
  lastUpdateTime: number;
  outputVariables: Record<string, string>;
}

/**
 * A pipeline has at most 50 stages of at most 50 actions; 20 pages of 100 hold every action
 * execution of one pipeline execution, retried stages included.
 */
const actionPages = 20;

/** The action executions of one pipeline execution, with their namespaces and output variables. */
export async function listActionExecutions(name: string, pipelineExecutionId: string): Promise<ActionOutputs[]> {
  const actions: ActionOutputs[] = [];
  let nextToken: string | undefined;
  const { target, client, pipelineName } = await reach(name);
  try {
    for (let page = 0; page < actionPages; page += 1) {
      const response = await client.send(
        new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId }, maxResults: 100, nextToken }),
      );
      for (const detail of response.actionExecutionDetails ?? []) {
        actions.push({
          actionName: detail.actionName ?? '',
          ...(detail.input?.namespace !== undefined ? { namespace: detail.input.namespace } : {}),
          status: detail.status ?? 'Unknown',
          lastUpdateTime: detail.lastUpdateTime?.getTime() ?? 0,
          outputVariables: detail.output?.outputVariables ?? {},
        });
      }
      nextToken = response.nextToken;
      if (!nextToken) break;
    }
  } catch (error) {
    throw failure(error, target, `ListActionExecutions ${name} ${pipelineExecutionId}`, executionGone(error, pipelineName, pipelineExecutionId));
  }
  return actions;
}
