import type { ActionExecutionStatus, TriggerType } from '@aws-sdk/client-codepipeline';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { eventStateOf, hubAccountId, hubRegion, type EmulatedOperation, type World, type WorldPipeline } from '../world.js';
import { AwsServiceError } from './errors.js';
import { executionIdFor } from './ids.js';
import { paginate } from './paging.js';
import {
  resolveTimeline,
  stateAt,
  type Execution,
  type ExecutionOrigin,
  type ResolvedExecution,
  type StageVisit,
} from './timeline.js';
import { awsEnum, awsInteger, awsList, awsString, parseRequest } from './validation.js';

export interface ExecutionView {
  pipelineName: string;
  pipelineExecutionId: string;
  status: string;
  statusSummary?: string;
  startedAt: string;
  finishedAt: string | null;
  startedBy: 'sequencer' | 'world';
  clientRequestToken?: string;
  variables: Record<string, string>;
  /** For a pipeline in another account: where it ran, and its CodePipeline name (`pipelineName` is then the stage's name for it). */
  location?: { accountId: string; region: string; pipelineName: string };
}

/** Every operation a world may fault, bar the Step Functions one, must be served here. */
export type CodePipelineOperation = Exclude<EmulatedOperation, 'ListExecutions' | 'GetExecutionHistory' | 'ListStateMachines'>;

const secondsToMs = 1000;
// An execution already running at startTime was started this long before it.
const inProgressAtStartAgeMs = 60 * secondsToMs;
// History ends this long before startTime, with the same gap between past executions.
const historyGapMs = 3600 * secondsToMs;
// Stopping lasts while in-progress actions finish, or briefly when they are abandoned.
const stoppingMs = { finishActions: 30 * secondsToMs, abandon: 5 * secondsToMs };
// Without `stages`, the Source stage takes a tenth of the pipeline's duration, at most this long.
const defaultSourceSeconds = 30;
// SourceRevisionOverride.revisionType; the emulated source actions (CodeStarSourceConnection) take commits.
const sourceRevisionTypes = ['COMMIT_ID', 'IMAGE_DIGEST', 'S3_OBJECT_VERSION_ID', 'S3_OBJECT_KEY'] as const;
const emulatedSourceRevisionType = 'COMMIT_ID';
// Pipelines are old news: created well before any history the world could describe.
const pipelineCreatedBeforeStartMs = 365 * 24 * 3600 * secondsToMs;

// Constraints from the CodePipeline API reference.
const pipelineName = awsString({ min: 1, max: 100, pattern: '[A-Za-z0-9.@\\-_]+' });
const pipelineExecutionId = awsString({
  pattern: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
});
const nextToken = awsString({ min: 1, max: 2048 }).optional();

const getPipelineInput = z.object({ name: pipelineName, version: awsInteger({ min: 1, max: 2 ** 31 - 1 }).optional() });
const listPipelinesInput = z.object({ maxResults: awsInteger({ min: 1, max: 1000 }).optional(), nextToken });
const stageOrActionName = awsString({ min: 1, max: 100, pattern: '[A-Za-z0-9.@\\-_]+' });
const startPipelineExecutionInput = z.object({
  name: pipelineName,
  variables: awsList(
    z.object({
      name: awsString({ min: 1, max: 128, pattern: '[A-Za-z0-9@\\-_]+' }),
      value: awsString({ min: 1, max: 1000, pattern: '.*' }),
    }),
    { min: 1, max: 50 },
  ).optional(),
  clientRequestToken: awsString({ min: 1, max: 128, pattern: '^[a-zA-Z0-9-]+$' }).optional(),
  sourceRevisions: awsList(
    z.object({
      actionName: stageOrActionName,
      revisionType: awsEnum(sourceRevisionTypes),
      revisionValue: awsString({ min: 1, max: 1500 }),
    }),
    { min: 0, max: 50 },
  ).optional(),
});
const executionInput = z.object({ pipelineName, pipelineExecutionId });
const listPipelineExecutionsInput = z.object({
  pipelineName,
  maxResults: awsInteger({ min: 1, max: 100 }).optional(),
  filter: z.object({ succeededInStage: z.object({ stageName: stageOrActionName.optional() }).optional() }).optional(),
  nextToken,
});
const listActionExecutionsInput = z.object({
  pipelineName,
  filter: z
    .object({
      pipelineExecutionId: pipelineExecutionId.optional(),
      latestInPipelineExecution: z
        // The SDK sends `startTimeRange` (LatestInPipelineExecutionFilter); both members are required.
        .object({ pipelineExecutionId, startTimeRange: awsEnum(['Latest', 'All']) })
        .optional(),
    })
    .optional(),
  maxResults: awsInteger({ min: 1, max: 100 }).optional(),
  nextToken,
});
const stopPipelineExecutionInput = z.object({
  pipelineName,
  pipelineExecutionId,
  abandon: z.boolean().optional(),
  reason: awsString({ max: 200 }).optional(),
});
const getPipelineStateInput = z.object({ name: pipelineName });

const triggerTypeByOrigin: Record<ExecutionOrigin, TriggerType> = {
  sequencer: 'StartPipelineExecution',
  // Executions the world scripts stand for source changes that reached the pipeline through EventBridge.
  history: 'CloudWatchEvent',
  inProgressAtStart: 'CloudWatchEvent',
  superseding: 'CloudWatchEvent',
  rerun: 'CloudWatchEvent',
};

/** How CodePipeline says who started an execution: a StartPipelineExecution names its caller in triggerDetail. */
const triggerOf = (execution: Execution) => ({
  triggerType: triggerTypeByOrigin[execution.origin],
  ...(execution.startedBy !== undefined && { triggerDetail: execution.startedBy }),
});

/** One state change of an execution, as CodePipeline's EventBridge events report it. */
export interface PipelineStateChange {
  pipelineName: string;
  pipelineExecutionId: string;
  /** As events spell it: STARTED, STOPPING, SUCCEEDED, FAILED, STOPPED, SUPERSEDED, CANCELED. */
  state: string;
  at: number;
  startedAt: number;
  /** `pipeline-execution-attempt`: 1, and one more for each retry of a failed stage. */
  attempt?: number;
}

/** Not a state: the instant the world itself starts an execution, when the changes must be read again. */
export const worldChangesAt = 'WORLD_CHANGES';
/**
 * Not a state either: the instant the world's `rerun` enters the stage a Failed execution of ours
 * failed in, after which CodePipeline can no longer retry it. No event says so; a sweep can see it.
 */
export const retryOvertakenAt = 'RETRY_OVERTAKEN';

interface ActionModel {
  name: string;
  namespace?: string;
  outputVariables?: Record<string, string>;
  isSource: boolean;
  artifactName: string;
}

interface StageModel {
  name: string;
  seconds: number;
  actions: ActionModel[];
}

/** The world's stages, or the Source and Build stages every pipeline without `stages` gets. */
function stagesOf(definition: WorldPipeline): StageModel[] {
  const declared = definition.stages ?? [
    {
      name: 'Source',
      durationSeconds: Math.min(defaultSourceSeconds, definition.durationSeconds / 10),
      actions: [{ name: 'Source', namespace: 'SourceVariables' }],
    },
    {
      name: 'Build',
      durationSeconds: definition.durationSeconds - Math.min(defaultSourceSeconds, definition.durationSeconds / 10),
      actions: [{ name: 'Build', namespace: 'BuildVariables' }],
    },
  ];
  return declared.map((stage, stageIndex) => ({
    name: stage.name,
    seconds: stage.durationSeconds,
    actions: stage.actions.map((action) => ({
      ...action,
      // The first stage holds the source actions, as CodePipeline requires.
      isSource: stageIndex === 0,
      artifactName: stageIndex === 0 ? `${action.name}Artifact` : `${action.name}Output`,
    })),
  }));
}

interface PipelineState {
  definition: WorldPipeline;
  stages: StageModel[];
  executions: Execution[];
  startedBySequencer: number;
  /** Each token's execution, and when the token was first sent. */
  executionIdByClientRequestToken: Map<string, { pipelineExecutionId: string; sentAt: number }>;
  supersededWithSuccessor: Set<string>;
  /** The executions of ours the world's `rerun` has started a new execution after. */
  rerunAfter: Set<string>;
}

/** CodePipeline's executions, scripted by the world and settled lazily against the clock. */
export class CodePipelineEmulator {
  private readonly pipelines = new Map<string, PipelineState>();
  private readonly startTimeMs: number;
  private sequence = 0;

  private readonly accountId: string;
  private readonly region: string;
  private readonly clock: Clock;
  private readonly tokenLifetimeMs: number;
  /** Who signs the call being answered (set by the server around each call): a start's triggerDetail. */
  private caller: string | undefined;

  constructor(
    world: Pick<World, 'startTime' | 'pipelines'> & Partial<Pick<World, 'clientRequestTokenSeconds'>>,
    clock: Clock,
    location: { accountId: string; region: string } = { accountId: hubAccountId, region: hubRegion },
  ) {
    this.clock = clock;
    this.tokenLifetimeMs = world.clientRequestTokenSeconds === undefined ? Number.POSITIVE_INFINITY : world.clientRequestTokenSeconds * secondsToMs;
    this.accountId = location.accountId;
    this.region = location.region;
    this.startTimeMs = Date.parse(world.startTime);
    for (const definition of world.pipelines) {
      const pipeline: PipelineState = {
        definition,
        stages: stagesOf(definition),
        executions: [],
        startedBySequencer: 0,
        executionIdByClientRequestToken: new Map(),
        supersededWithSuccessor: new Set(),
        rerunAfter: new Set(),
      };
      this.pipelines.set(definition.name, pipeline);
      this.addHistory(pipeline);
      if (definition.inProgressAtStart) {
        this.addExecution(pipeline, {
          identity: `${definition.name}/in-progress-at-start`,
          origin: 'inProgressAtStart',
          startedAt: this.startTimeMs - inProgressAtStartAgeMs,
          durationMs: inProgressAtStartAgeMs + definition.inProgressAtStart.remainingSeconds * secondsToMs,
          outcome: 'Succeeded',
        });
      }
    }
  }

  readonly operations: Record<CodePipelineOperation, (input: unknown) => unknown> = {
    GetPipeline: (input) => this.getPipeline(input),
    ListPipelines: (input) => this.listPipelines(input),
    StartPipelineExecution: (input) => this.startPipelineExecution(input),
    GetPipelineExecution: (input) => this.getPipelineExecution(input),
    ListPipelineExecutions: (input) => this.listPipelineExecutions(input),
    ListActionExecutions: (input) => this.listActionExecutions(input),
    StopPipelineExecution: (input) => this.stopPipelineExecution(input),
    GetPipelineState: (input) => this.getPipelineState(input),
  };

  /** Answers one call made by `caller` (its role session ARN), which a start records as its trigger's detail. */
  answerAs<Answer>(caller: string, answer: () => Answer): Answer {
    this.caller = caller;
    try {
      return answer();
    } finally {
      this.caller = undefined;
    }
  }

  /** Every execution started since startTime (history excluded), in start order, as of now. */
  executions(): ExecutionView[] {
    const now = this.clock.now();
    return [...this.pipelines.values()]
      .flatMap((pipeline) => this.settle(pipeline, now).map((resolved) => ({ pipeline, resolved })))
      .filter(({ resolved }) => resolved.execution.origin !== 'history')
      .sort(
        (a, b) =>
          a.resolved.execution.startedAt - b.resolved.execution.startedAt ||
          a.resolved.execution.sequence - b.resolved.execution.sequence,
      )
      .map(({ pipeline, resolved }) => {
        const { execution } = resolved;
        const state = stateAt(resolved, now);
        return {
          pipelineName: pipeline.definition.name,
          pipelineExecutionId: execution.pipelineExecutionId,
          status: state.status,
          ...(state.statusSummary !== undefined && { statusSummary: state.statusSummary }),
          startedAt: new Date(execution.startedAt).toISOString(),
          finishedAt: state.finishedAt === null ? null : new Date(state.finishedAt).toISOString(),
          startedBy: execution.origin === 'sequencer' ? 'sequencer' : 'world',
          ...(execution.clientRequestToken !== undefined && { clientRequestToken: execution.clientRequestToken }),
          variables: Object.fromEntries(execution.variables.map((variable) => [variable.name, variable.value])),
        };
      });
  }

  /**
   * Every state change of every execution since startTime whose instant is known by now (an end
   * that waits on a newer execution is not), as CodePipeline's events name them: what the local
   * event bus emits.
   */
  stateChanges(): PipelineStateChange[] {
    const now = this.clock.now();
    return [...this.pipelines.values()].flatMap((pipeline) => {
      const settled = this.settle(pipeline, now);
      return settled
        .filter((resolved) => resolved.execution.origin !== 'history')
        .flatMap((resolved) => {
          const { execution } = resolved;
          const change = (state: string, at: number, attempt = 1): PipelineStateChange => ({
            pipelineName: pipeline.definition.name,
            pipelineExecutionId: execution.pipelineExecutionId,
            state,
            at,
            startedAt: execution.startedAt,
            attempt,
          });
          const changes = [change('STARTED', execution.startedAt)];
          if (resolved.stoppingFrom !== undefined && Number.isFinite(resolved.stoppingFrom)) changes.push(change('STOPPING', resolved.stoppingFrom));
          if (Number.isFinite(resolved.endsAt)) changes.push(change(eventStateOf[resolved.endStatus] ?? resolved.endStatus.toUpperCase(), resolved.endsAt));
          // The world starts a newer execution when ours reaches its held transition: look again then.
          else if (resolved.heldAt !== undefined && Number.isFinite(resolved.heldAt)) changes.push(change(worldChangesAt, resolved.heldAt));
          for (const retry of resolved.retried ?? []) changes.push(change('RESUMED', retry.at, retry.attempt), change(retry.status.toUpperCase(), retry.endsAt, retry.attempt));
          changes.push(...this.rerunChanges(pipeline, resolved, settled, change));
          return changes;
        });
    });
  }

  /** For a Failed execution of ours the world's `rerun` follows: when the rerun starts, and when it enters the stage ours failed in. */
  private rerunChanges(
    pipeline: PipelineState,
    resolved: ResolvedExecution,
    settled: ResolvedExecution[],
    change: (state: string, at: number) => PipelineStateChange,
  ): PipelineStateChange[] {
    const { rerun } = pipeline.definition;
    if (rerun === undefined || resolved.execution.origin !== 'sequencer' || resolved.endStatus !== 'Failed' || !Number.isFinite(resolved.endsAt)) return [];
    const startsAt = rerunStartsAt(resolved, rerun);
    const later = settled.find(({ execution }) => execution.origin === 'rerun' && execution.startedAt === startsAt);
    if (later === undefined) return [change(worldChangesAt, startsAt)];
    const failedIn = resolved.visits.findLast((visit) => visit.endStatus === 'Failed')?.stageIndex;
    const entered = later.visits.find((visit) => visit.stageIndex === failedIn)?.enteredAt;
    return entered === undefined || !Number.isFinite(entered) ? [] : [change(retryOvertakenAt, entered)];
  }

  /** The execution's status now, for checking that a scheduled change still holds when its instant comes. */
  statusNow(pipelineName: string, pipelineExecutionId: string): string | undefined {
    const pipeline = this.pipelines.get(pipelineName);
    if (!pipeline) return undefined;
    const now = this.clock.now();
    const resolved = this.settle(pipeline, now).find((candidate) => candidate.execution.pipelineExecutionId === pipelineExecutionId);
    return resolved ? stateAt(resolved, now).status : undefined;
  }

  private getPipeline(input: unknown) {
    const request = parseRequest(getPipelineInput, input);
    const pipeline = this.pipelineNamed(request.name);
    const { definition } = pipeline;
    if (request.version !== undefined && request.version !== 1) {
      throw new AwsServiceError(
        'PipelineVersionNotFoundException',
        `Pipeline version ${request.version} not found for pipeline ${definition.name}`,
      );
    }
    const sourceArtifact = pipeline.stages[0]!.actions[0]!.artifactName;
    return {
      pipeline: {
        name: definition.name,
        roleArn: `arn:aws:iam::${this.accountId}:role/${definition.name}-service-role`,
        artifactStore: { type: 'S3', location: `codepipeline-${this.region}-${this.accountId}` },
        stages: pipeline.stages.map((stage) => ({
          name: stage.name,
          actions: stage.actions.map((action) => ({
            name: action.name,
            actionTypeId: action.isSource
              ? { category: 'Source', owner: 'AWS', provider: 'CodeStarSourceConnection', version: '1' }
              : { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
            runOrder: 1,
            configuration: action.isSource
              ? {
                  ConnectionArn: `arn:aws:codeconnections:${this.region}:${this.accountId}:connection/emulated`,
                  FullRepositoryId: `example/${definition.name}`,
                  BranchName: 'main',
                }
              : { ProjectName: `${definition.name}-${action.name}` },
            outputArtifacts: [{ name: action.artifactName }],
            inputArtifacts: action.isSource ? [] : [{ name: sourceArtifact }],
            ...(action.namespace !== undefined && { namespace: action.namespace }),
          })),
        })),
        version: 1,
        executionMode: definition.executionMode,
        pipelineType: definition.pipelineType,
        ...(definition.variables && { variables: definition.variables }),
      },
      metadata: {
        pipelineArn: `arn:aws:codepipeline:${this.region}:${this.accountId}:${definition.name}`,
        created: this.pipelineCreatedTimestamp(),
        updated: this.pipelineCreatedTimestamp(),
      },
    };
  }

  private listPipelines(input: unknown) {
    const request = parseRequest(listPipelinesInput, input);
    const { page, nextToken } = paginate({
      items: [...this.pipelines.values()].map((pipeline) => pipeline.definition),
      keyOf: (definition) => definition.name,
      maxResults: request.maxResults ?? 1000,
      nextToken: request.nextToken,
      invalidToken: () => new AwsServiceError('InvalidNextTokenException', 'The next token is not valid'),
    });
    return {
      pipelines: page.map((definition) => ({
        name: definition.name,
        version: 1,
        pipelineType: definition.pipelineType,
        executionMode: definition.executionMode,
        created: this.pipelineCreatedTimestamp(),
        updated: this.pipelineCreatedTimestamp(),
      })),
      ...(nextToken !== undefined && { nextToken }),
    };
  }

  private startPipelineExecution(input: unknown) {
    const request = parseRequest(startPipelineExecutionInput, input);
    const pipeline = this.pipelineNamed(request.name);
    const variables = request.variables ?? [];
    const sourceRevisions = request.sourceRevisions ?? [];
    this.checkVariables(pipeline, variables);
    this.checkSourceRevisions(pipeline, sourceRevisions);
    const now = this.clock.now();
    this.settle(pipeline, now);
    const token = request.clientRequestToken;
    const alreadyStarted = token === undefined ? undefined : pipeline.executionIdByClientRequestToken.get(token);
    if (alreadyStarted !== undefined && now - alreadyStarted.sentAt <= this.tokenLifetimeMs) return { pipelineExecutionId: alreadyStarted.pipelineExecutionId };

    pipeline.startedBySequencer += 1;
    const { definition } = pipeline;
    const outcome = definition.outcomes?.[pipeline.startedBySequencer - 1] ?? definition.outcome;
    const execution = this.addExecution(pipeline, {
      identity: `${definition.name}/started/${pipeline.startedBySequencer}`,
      ...(this.caller !== undefined && { startedBy: this.caller }),
      origin: 'sequencer',
      startedAt: now,
      durationMs: definition.durationSeconds * secondsToMs,
      outcome,
      ...(definition.statusSummary !== undefined && { statusSummary: definition.statusSummary }),
      ...(outcome === 'Failed' &&
        definition.retry && {
          retry: definition.retry.map(({ afterSeconds, durationSeconds, outcome: ending, statusSummary }) => ({
            afterMs: afterSeconds * secondsToMs,
            durationMs: durationSeconds * secondsToMs,
            outcome: ending,
            ...(statusSummary !== undefined && { statusSummary }),
          })),
        }),
      variables,
      sourceRevisions,
      ...(token !== undefined && { clientRequestToken: token }),
    });
    if (token !== undefined) pipeline.executionIdByClientRequestToken.set(token, { pipelineExecutionId: execution.pipelineExecutionId, sentAt: now });
    return { pipelineExecutionId: execution.pipelineExecutionId };
  }

  /**
   * Pipeline-level variables exist only on V2 pipelines, and a start may set only the ones the
   * pipeline declares; one declared without a default value must be given.
   */
  private checkVariables(pipeline: PipelineState, variables: { name: string; value: string }[]): void {
    const { definition } = pipeline;
    if (variables.length > 0 && definition.pipelineType !== 'V2') {
      throw new AwsServiceError(
        'ValidationException',
        `Pipeline-level variables are supported only for pipeline type V2; pipeline ${definition.name} is ${definition.pipelineType}`,
      );
    }
    const declared = new Map((definition.variables ?? []).map((variable) => [variable.name, variable]));
    const given = new Set<string>();
    for (const { name } of variables) {
      if (!declared.has(name)) {
        throw new AwsServiceError('ValidationException', `Variable ${name} is not declared in pipeline ${definition.name}`);
      }
      if (given.has(name)) throw new AwsServiceError('ValidationException', `Variable ${name} is given more than once`);
      given.add(name);
    }
    for (const variable of declared.values()) {
      if (variable.defaultValue === undefined && !given.has(variable.name)) {
        throw new AwsServiceError(
          'ValidationException',
          `Variable ${variable.name} of pipeline ${definition.name} has no default value and needs one at start`,
        );
      }
    }
  }

  /** Each override must name one of the pipeline's source actions, once, with the revision type it takes. */
  private checkSourceRevisions(pipeline: PipelineState, sourceRevisions: Execution['sourceRevisions']): void {
    const sourceActions = new Set(pipeline.stages[0]!.actions.map((action) => action.name));
    const seen = new Set<string>();
    for (const revision of sourceRevisions) {
      if (!sourceActions.has(revision.actionName)) {
        throw new AwsServiceError(
          'ValidationException',
          `Action ${revision.actionName} is not a source action of pipeline ${pipeline.definition.name}`,
        );
      }
      if (seen.has(revision.actionName)) {
        throw new AwsServiceError('ValidationException', `Source action ${revision.actionName} is overridden more than once`);
      }
      seen.add(revision.actionName);
      if (revision.revisionType !== emulatedSourceRevisionType) {
        throw new AwsServiceError(
          'ValidationException',
          `Revision type ${revision.revisionType} is not supported by source action ${revision.actionName} (CodeStarSourceConnection takes ${emulatedSourceRevisionType})`,
        );
      }
    }
  }

  private getPipelineExecution(input: unknown) {
    const request = parseRequest(executionInput, input);
    const pipeline = this.pipelineNamed(request.pipelineName);
    const now = this.clock.now();
    const resolved = this.resolvedExecution(pipeline, request.pipelineExecutionId, now);
    const { execution } = resolved;
    const state = stateAt(resolved, now);
    return {
      pipelineExecution: {
        pipelineName: pipeline.definition.name,
        pipelineVersion: 1,
        pipelineExecutionId: execution.pipelineExecutionId,
        status: state.status,
        ...(state.statusSummary !== undefined && { statusSummary: state.statusSummary }),
        artifactRevisions: this.artifactRevisions(pipeline, resolved, now),
        variables: this.resolvedVariables(pipeline, execution),
        trigger: triggerOf(execution),
        executionMode: pipeline.definition.executionMode,
        executionType: 'STANDARD',
      },
    };
  }

  /** The declared variables with the values this execution ran with: given at start, else the default. */
  private resolvedVariables(pipeline: PipelineState, execution: Execution) {
    const given = new Map(execution.variables.map((variable) => [variable.name, variable.value]));
    return (pipeline.definition.variables ?? []).flatMap((variable) => {
      const value = given.get(variable.name) ?? variable.defaultValue;
      return value === undefined ? [] : [{ name: variable.name, resolvedValue: value }];
    });
  }

  /** The commit a source action fetched: the override given at start, else the world's, else one derived from the execution. */
  private revisionOf(action: ActionModel, execution: Execution): string {
    const override = execution.sourceRevisions.find((revision) => revision.actionName === action.name);
    return (
      override?.revisionValue ??
      action.outputVariables?.CommitId ??
      createHash('sha1').update(`${execution.pipelineExecutionId}/${action.name}`).digest('hex')
    );
  }

  /** Known once the source stage has succeeded, as in CodePipeline. */
  private artifactRevisions(pipeline: PipelineState, resolved: ResolvedExecution, now: number) {
    const sourceVisit = resolved.visits.find((visit) => visit.stageIndex === 0);
    if (!sourceVisit || sourceVisit.leftAt > now || sourceVisit.endStatus !== 'Succeeded') return [];
    return pipeline.stages[0]!.actions.map((action) => ({
      name: action.artifactName,
      revisionId: this.revisionOf(action, resolved.execution),
      revisionSummary: `Source of ${pipeline.definition.name}`,
      created: toEpochSeconds(sourceVisit.leftAt),
    }));
  }

  private listPipelineExecutions(input: unknown) {
    const request = parseRequest(listPipelineExecutionsInput, input);
    const pipeline = this.pipelineNamed(request.pipelineName);
    const now = this.clock.now();
    const stageName = request.filter?.succeededInStage?.stageName;
    const stageIndex = stageName === undefined ? undefined : pipeline.stages.findIndex((stage) => stage.name === stageName);
    const newestFirst = this.settle(pipeline, now)
      .filter(
        (resolved) =>
          stageIndex === undefined ||
          resolved.visits.some(
            (visit) => visit.stageIndex === stageIndex && visit.leftAt <= now && visit.endStatus === 'Succeeded',
          ),
      )
      .reverse();
    const { page, nextToken } = paginate({
      items: newestFirst,
      keyOf: (resolved) => resolved.execution.pipelineExecutionId,
      // The API reference gives 100 as the default page size.
      maxResults: request.maxResults ?? 100,
      nextToken: request.nextToken,
      invalidToken: () => new AwsServiceError('InvalidNextTokenException', 'The next token is not valid'),
    });
    return {
      pipelineExecutionSummaries: page.map((resolved) => {
        const { execution } = resolved;
        const state = stateAt(resolved, now);
        const stopped = state.status === 'Stopping' || state.status === 'Stopped';
        const stopReason = stopped ? execution.stopRequest?.reason : undefined;
        return {
          pipelineExecutionId: execution.pipelineExecutionId,
          status: state.status,
          ...(state.statusSummary !== undefined && { statusSummary: state.statusSummary }),
          startTime: toEpochSeconds(execution.startedAt),
          lastUpdateTime: toEpochSeconds(state.lastUpdateTime),
          sourceRevisions: this.artifactRevisions(pipeline, resolved, now).map((revision, index) => ({
            actionName: pipeline.stages[0]!.actions[index]!.name,
            revisionId: revision.revisionId,
            revisionSummary: revision.revisionSummary,
          })),
          trigger: triggerOf(execution),
          ...(stopReason !== undefined && { stopTrigger: { reason: stopReason } }),
          executionMode: pipeline.definition.executionMode,
          executionType: 'STANDARD',
        };
      }),
      ...(nextToken !== undefined && { nextToken }),
    };
  }

  private listActionExecutions(input: unknown) {
    const request = parseRequest(listActionExecutionsInput, input);
    const pipeline = this.pipelineNamed(request.pipelineName);
    const now = this.clock.now();
    const wanted = request.filter?.pipelineExecutionId ?? request.filter?.latestInPipelineExecution?.pipelineExecutionId;
    const executions =
      wanted === undefined ? this.settle(pipeline, now) : [this.resolvedExecution(pipeline, wanted, now)];
    // `Latest`: only the latest attempt of each stage of that execution (a retried stage's earlier ones left out).
    const latestOnly = request.filter?.latestInPipelineExecution?.startTimeRange === 'Latest';
    const details = executions
      .flatMap((resolved) =>
        [...resolved.visits, ...retriedVisits(resolved, pipeline.stages.length)]
          .filter((visit) => visit.enteredAt <= now)
          .filter(
            (visit, _index, entered) =>
              !latestOnly || entered.every((other) => other.stageIndex !== visit.stageIndex || other.enteredAt <= visit.enteredAt),
          )
          .flatMap((visit) => {
            const { actions } = pipeline.stages[visit.stageIndex]!;
            return actions
              .map((action, index) => ({ resolved, visit, action, index }))
              .filter(({ index }) => !(visit as Partial<RetriedVisit>).failedActionOnly || index === actions.length - 1);
          }),
      )
      .sort((a, b) => b.visit.enteredAt - a.visit.enteredAt || b.resolved.execution.sequence - a.resolved.execution.sequence);
    const { page, nextToken } = paginate({
      items: details,
      keyOf: ({ resolved, visit, action }) => actionExecutionIdFor(resolved.execution, visit, action),
      maxResults: request.maxResults ?? 100,
      nextToken: request.nextToken,
      invalidToken: () => new AwsServiceError('InvalidNextTokenException', 'The next token is not valid'),
    });
    return {
      actionExecutionDetails: page.map(({ resolved, visit, action, index }) => {
        const { execution } = resolved;
        const stage = pipeline.stages[visit.stageIndex]!;
        const status = actionStatusAt(visit, index === stage.actions.length - 1, execution, now);
        const outputVariables = status === 'Succeeded' ? this.outputVariablesOf(action, execution) : {};
        const actionExecutionId = actionExecutionIdFor(execution, visit, action);
        return {
          pipelineExecutionId: execution.pipelineExecutionId,
          actionExecutionId,
          pipelineVersion: 1,
          stageName: stage.name,
          actionName: action.name,
          startTime: toEpochSeconds(visit.enteredAt),
          lastUpdateTime: toEpochSeconds(status === 'InProgress' ? visit.enteredAt : visit.leftAt),
          status,
          input: {
            actionTypeId: action.isSource
              ? { category: 'Source', owner: 'AWS', provider: 'CodeStarSourceConnection', version: '1' }
              : { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
            configuration: {},
            resolvedConfiguration: {},
            region: this.region,
            inputArtifacts: [],
            ...(action.namespace !== undefined && { namespace: action.namespace }),
          },
          output: {
            outputArtifacts: status === 'Succeeded' ? [{ name: action.artifactName }] : [],
            executionResult: { externalExecutionId: actionExecutionId, externalExecutionSummary: `${action.name} ${status}` },
            outputVariables,
          },
        };
      }),
      ...(nextToken !== undefined && { nextToken }),
    };
  }

  /** What an action publishes once it has succeeded: the world's values; a source action also its commit. */
  private outputVariablesOf(action: ActionModel, execution: Execution): Record<string, string> {
    return action.isSource
      ? { ...action.outputVariables, CommitId: this.revisionOf(action, execution) }
      : { ...action.outputVariables };
  }

  private stopPipelineExecution(input: unknown) {
    const request = parseRequest(stopPipelineExecutionInput, input);
    const pipeline = this.pipelineNamed(request.pipelineName);
    const now = this.clock.now();
    const resolved = this.settle(pipeline, now).find(
      (candidate) => candidate.execution.pipelineExecutionId === request.pipelineExecutionId,
    );
    // StopPipelineExecution has no not-found error in the API: an unknown id is simply not stoppable.
    const status = resolved ? stateAt(resolved, now).status : undefined;
    if (!resolved || (status !== 'InProgress' && status !== 'Stopping')) {
      throw new AwsServiceError(
        'PipelineExecutionNotStoppableException',
        `Pipeline execution ${request.pipelineExecutionId} is not in progress and cannot be stopped`,
      );
    }
    const abandon = request.abandon ?? false;
    const { execution } = resolved;
    const earlier = execution.stopRequest;
    if (earlier) {
      // While Stopping, the only request left is to abandon what a stop-and-wait is finishing.
      if (earlier.abandon || !abandon) {
        throw new AwsServiceError(
          'DuplicatedStopRequestException',
          `Pipeline execution ${execution.pipelineExecutionId} is already stopping`,
        );
      }
      execution.stopRequest = {
        ...earlier,
        abandon: true,
        stoppedAt: Math.min(earlier.stoppedAt, now + stoppingMs.abandon),
      };
    } else {
      execution.stopRequest = {
        requestedAt: now,
        abandon,
        ...(request.reason !== undefined && { reason: request.reason }),
        stoppedAt: now + (abandon ? stoppingMs.abandon : stoppingMs.finishActions),
      };
    }
    return { pipelineExecutionId: execution.pipelineExecutionId };
  }

  private getPipelineState(input: unknown) {
    const request = parseRequest(getPipelineStateInput, input);
    const pipeline = this.pipelineNamed(request.name);
    const now = this.clock.now();
    const settled = this.settle(pipeline, now);
    return {
      pipelineName: pipeline.definition.name,
      pipelineVersion: 1,
      stageStates: pipeline.stages.map((stage, stageIndex) => {
        // The stage shows the execution that entered it last.
        const latest = settled
          .flatMap((resolved) =>
            resolved.visits
              .filter((visit) => visit.stageIndex === stageIndex && visit.enteredAt <= now)
              .map((visit) => ({ resolved, visit })),
          )
          .sort((a, b) => a.visit.enteredAt - b.visit.enteredAt || a.resolved.execution.sequence - b.resolved.execution.sequence)
          .at(-1);
        const inbound = settled.flatMap((resolved) =>
          resolved.waits
            .filter((wait) => wait.stageIndex === stageIndex && wait.from <= now && now < wait.until)
            .map((wait) => ({ resolved, wait })),
        );
        const held = inbound.find(({ wait }) => wait.held);
        const inboundExecutions = inbound.map(({ resolved }) => ({
          pipelineExecutionId: resolved.execution.pipelineExecutionId,
          status: 'InProgress',
          type: 'STANDARD',
        }));
        return {
          stageName: stage.name,
          ...(inboundExecutions.length > 0 && { inboundExecution: inboundExecutions[0], inboundExecutions }),
          inboundTransitionState: held
            ? {
                enabled: false,
                lastChangedBy: 'world file',
                lastChangedAt: toEpochSeconds(held.wait.from),
                disabledReason: 'Held by the world file until a newer execution arrives',
              }
            : { enabled: true },
          actionStates: stage.actions.map((action, index) => ({
            actionName: action.name,
            ...(latest && {
              latestExecution: {
                actionExecutionId: actionExecutionIdFor(latest.resolved.execution, latest.visit, action),
                status: actionStatusAt(latest.visit, index === stage.actions.length - 1, latest.resolved.execution, now),
                lastStatusChange: toEpochSeconds(latest.visit.leftAt <= now ? latest.visit.leftAt : latest.visit.enteredAt),
              },
            }),
          })),
          ...(latest && {
            latestExecution: {
              pipelineExecutionId: latest.resolved.execution.pipelineExecutionId,
              status: stageStatusAt(latest.visit, latest.resolved, now),
              type: 'STANDARD',
            },
          }),
        };
      }),
      created: this.pipelineCreatedTimestamp(),
      updated: this.pipelineCreatedTimestamp(),
    };
  }

  private pipelineNamed(name: string): PipelineState {
    const pipeline = this.pipelines.get(name);
    if (!pipeline) {
      throw new AwsServiceError(
        'PipelineNotFoundException',
        `Account '${this.accountId}' does not have a pipeline with name '${name}'`,
      );
    }
    return pipeline;
  }

  private resolvedExecution(pipeline: PipelineState, pipelineExecutionId: string, now: number): ResolvedExecution {
    const resolved = this.settle(pipeline, now).find(
      (candidate) => candidate.execution.pipelineExecutionId === pipelineExecutionId,
    );
    if (!resolved) {
      throw new AwsServiceError(
        'PipelineExecutionNotFoundException',
        `Pipeline execution ID ${pipelineExecutionId} does not belong to pipeline ${pipeline.definition.name}`,
      );
    }
    return resolved;
  }

  /**
   * The pipeline's executions visible at `now`, settled, in start order. An execution scripted to
   * end Superseded brings its successor into being the instant it reaches the held transition,
   * however late we look.
   */
  private settle(pipeline: PipelineState, now: number): ResolvedExecution[] {
    const { definition } = pipeline;
    const stageSeconds = pipeline.stages.map((stage) => stage.seconds);
    for (;;) {
      const timeline = resolveTimeline(pipeline.executions, definition.executionMode, stageSeconds);
      const successorDue = timeline
        .filter(
          (resolved) =>
            resolved.heldAt !== undefined &&
            resolved.heldAt <= now &&
            !pipeline.supersededWithSuccessor.has(resolved.execution.pipelineExecutionId),
        )
        .sort((a, b) => a.heldAt! - b.heldAt!)[0];
      if (definition.rerun !== undefined && this.addRerun(pipeline, timeline, now, definition.rerun)) continue;
      if (!successorDue || !definition.supersededBy) {
        return timeline.filter((resolved) => resolved.execution.startedAt <= now);
      }
      const supersededId = successorDue.execution.pipelineExecutionId;
      pipeline.supersededWithSuccessor.add(supersededId);
      this.addExecution(pipeline, {
        identity: `${supersededId}/superseded-by`,
        origin: 'superseding',
        startedAt: successorDue.heldAt!,
        durationMs: definition.supersededBy.durationSeconds * secondsToMs,
        outcome: definition.supersededBy.outcome,
        ...(definition.supersededBy.statusSummary !== undefined && {
          statusSummary: definition.supersededBy.statusSummary,
        }),
      });
    }
  }

  /**
   * The world's `rerun`: a new execution of the pipeline `afterSeconds` after one the sequencer
   * started ended Failed, once (for the first such execution not yet rerun). True when it added one.
   */
  private addRerun(pipeline: PipelineState, timeline: ResolvedExecution[], now: number, rerun: NonNullable<PipelineState['definition']['rerun']>): boolean {
    const due = timeline.find(
      ({ execution, endStatus, endsAt }) =>
        execution.origin === 'sequencer' &&
        endStatus === 'Failed' &&
        rerunStartsAt({ endsAt }, rerun) <= now &&
        !pipeline.rerunAfter.has(execution.pipelineExecutionId),
    );
    if (due === undefined) return false;
    pipeline.rerunAfter.add(due.execution.pipelineExecutionId);
    this.addExecution(pipeline, {
      identity: `${due.execution.pipelineExecutionId}/rerun`,
      origin: 'rerun',
      startedAt: rerunStartsAt(due, rerun),
      durationMs: rerun.durationSeconds * secondsToMs,
      outcome: rerun.outcome,
      ...(rerun.statusSummary !== undefined && { statusSummary: rerun.statusSummary }),
    });
    return true;
  }

  /** Past successes, history[0] the newest, each ending an hour before the next one starts. */
  private addHistory(pipeline: PipelineState): void {
    const { definition } = pipeline;
    let endsAt = this.startTimeMs - historyGapMs;
    const past = definition.history.map((durationSeconds, index) => {
      const startedAt = endsAt - durationSeconds * secondsToMs;
      endsAt = startedAt - historyGapMs;
      return { index, startedAt, durationMs: durationSeconds * secondsToMs };
    });
    for (const { index, startedAt, durationMs } of past.reverse()) {
      this.addExecution(pipeline, {
        identity: `${definition.name}/history/${index}`,
        origin: 'history',
        startedAt,
        durationMs,
        outcome: 'Succeeded',
      });
    }
  }

  private addExecution(
    pipeline: PipelineState,
    spec: Omit<Execution, 'pipelineExecutionId' | 'sequence' | 'variables' | 'sourceRevisions'> & {
      identity: string;
      variables?: Execution['variables'];
      sourceRevisions?: Execution['sourceRevisions'];
    },
  ): Execution {
    const { identity, variables, sourceRevisions, ...rest } = spec;
    this.sequence += 1;
    const execution: Execution = {
      ...rest,
      // Outside the hub the location joins the identity: a namesake in another account has other ids.
      pipelineExecutionId: executionIdFor(this.accountId === hubAccountId && this.region === hubRegion ? identity : `${this.accountId}/${this.region}/${identity}`),
      sequence: this.sequence,
      variables: variables ?? [],
      sourceRevisions: sourceRevisions ?? [],
    };
    pipeline.executions.push(execution);
    return execution;
  }

  private pipelineCreatedTimestamp(): number {
    return toEpochSeconds(this.startTimeMs - pipelineCreatedBeforeStartMs);
  }
}

/** When the world's `rerun` starts a new execution after a Failed one of ours: `afterSeconds` after it ended. */
const rerunStartsAt = ({ endsAt }: Pick<ResolvedExecution, 'endsAt'>, rerun: { afterSeconds: number }): number => endsAt + rerun.afterSeconds * secondsToMs;

function actionExecutionIdFor(execution: Execution, visit: StageVisit, action: ActionModel): string {
  const attempt = (visit as Partial<RetriedVisit>).attempt;
  return executionIdFor(`${execution.pipelineExecutionId}/${visit.stageIndex}/${action.name}${attempt === undefined ? '' : `/${attempt}`}`);
}

/** A stage visit of a retry (attempt 2, 3, ...): RetryStageExecution runs the failed action again (FAILED_ACTIONS, its default). */
interface RetriedVisit extends StageVisit {
  attempt: number;
  /** The retried stage itself: only its failed action (the last) runs again. */
  failedActionOnly: boolean;
}

/**
 * The stage visits the retries of an execution's failed stage add, as ListActionExecutions shows
 * them next to the first attempt's: the failed action again, failing again or succeeding, and
 * after a success the stages after it, each a share of the retry's time. Without them, outputs a
 * retried action published (a namespace's variables) could not be read locally, as they are on AWS.
 */
function retriedVisits(resolved: ResolvedExecution, stageCount: number): RetriedVisit[] {
  const failed = resolved.visits.findLast((visit) => visit.endStatus === 'Failed');
  if (failed === undefined) return [];
  return (resolved.retried ?? []).flatMap((retry) => {
    const stages = retry.status === 'Succeeded' ? stageCount - failed.stageIndex : 1;
    const share = (retry.endsAt - retry.at) / stages;
    return Array.from({ length: stages }, (_, offset) => ({
      stageIndex: failed.stageIndex + offset,
      enteredAt: retry.at + offset * share,
      leftAt: offset === stages - 1 ? retry.endsAt : retry.at + (offset + 1) * share,
      endStatus: retry.status,
      attempt: retry.attempt,
      failedActionOnly: offset === 0,
    }));
  });
}

/** A stage's actions run for the whole stage; when it fails, its last action is the one that failed. */
function actionStatusAt(visit: StageVisit, lastAction: boolean, execution: Execution, now: number): ActionExecutionStatus {
  if (now < visit.leftAt) return 'InProgress';
  switch (visit.endStatus) {
    case 'Succeeded':
      return 'Succeeded';
    case 'Failed':
      return lastAction ? 'Failed' : 'Succeeded';
    case 'Stopped':
      // Stop and wait lets in-progress actions finish; stop and abandon abandons them.
      return execution.stopRequest?.abandon ? 'Abandoned' : 'Succeeded';
    case 'Cancelled':
      return 'Abandoned';
  }
}

function stageStatusAt(visit: StageVisit, resolved: ResolvedExecution, now: number): string {
  if (now >= visit.leftAt) return visit.endStatus;
  return resolved.stoppingFrom !== undefined && now >= resolved.stoppingFrom ? 'Stopping' : 'InProgress';
}

/** AWS JSON protocols carry timestamps as epoch seconds. */
function toEpochSeconds(epochMs: number): number {
  return epochMs / 1000;
}
