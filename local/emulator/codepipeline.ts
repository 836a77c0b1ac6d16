import type { TriggerType } from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { EmulatedOperation, World, WorldPipeline } from '../world.js';
import { AwsServiceError } from './errors.js';
import { executionIdFor } from './ids.js';
import { paginate } from './paging.js';
import { resolveTimeline, stateAt, type Execution, type ExecutionOrigin, type ResolvedExecution } from './timeline.js';
import { awsInteger, awsList, awsString, parseRequest } from './validation.js';

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
}

/** Every operation a world may fault, bar the Step Functions one, must be served here. */
export type CodePipelineOperation = Exclude<EmulatedOperation, 'ListExecutions'>;

const accountId = '123456789012';
const region = 'us-east-1';
const secondsToMs = 1000;
// An execution already running at startTime was started this long before it.
const inProgressAtStartAgeMs = 60 * secondsToMs;
// History ends this long before startTime, with the same gap between past executions.
const historyGapMs = 3600 * secondsToMs;
// Stopping lasts while in-progress actions finish, or briefly when they are abandoned.
const stoppingMs = { finishActions: 30 * secondsToMs, abandon: 5 * secondsToMs };
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
const startPipelineExecutionInput = z.object({
  name: pipelineName,
  variables: awsList(
    z.object({
      name: awsString({ min: 1, max: 128, pattern: '[A-Za-z0-9@\\-_]+' }),
      value: awsString({ min: 1, max: 1000 }),
    }),
    { min: 1, max: 50 },
  ).optional(),
  clientRequestToken: awsString({ min: 1, max: 128, pattern: '^[a-zA-Z0-9-]+$' }).optional(),
});
const executionInput = z.object({ pipelineName, pipelineExecutionId });
const listPipelineExecutionsInput = z.object({
  pipelineName,
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
};

// The one stage every emulated pipeline has: stages are not modelled, the whole run is one.
const stageName = 'Run';

interface PipelineState {
  definition: WorldPipeline;
  executions: Execution[];
  startedBySequencer: number;
  executionIdByClientRequestToken: Map<string, string>;
  supersededWithSuccessor: Set<string>;
}

/** CodePipeline's executions, scripted by the world and settled lazily against the clock. */
export class CodePipelineEmulator {
  private readonly pipelines = new Map<string, PipelineState>();
  private readonly startTimeMs: number;
  private sequence = 0;

  constructor(
    world: World,
    private readonly clock: Clock,
  ) {
    this.startTimeMs = Date.parse(world.startTime);
    for (const definition of world.pipelines) {
      const pipeline: PipelineState = {
        definition,
        executions: [],
        startedBySequencer: 0,
        executionIdByClientRequestToken: new Map(),
        supersededWithSuccessor: new Set(),
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
    StopPipelineExecution: (input) => this.stopPipelineExecution(input),
    GetPipelineState: (input) => this.getPipelineState(input),
  };

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

  private getPipeline(input: unknown) {
    const request = parseRequest(getPipelineInput, input);
    const { definition } = this.pipelineNamed(request.name);
    if (request.version !== undefined && request.version !== 1) {
      throw new AwsServiceError(
        'PipelineVersionNotFoundException',
        `Pipeline version ${request.version} not found for pipeline ${definition.name}`,
      );
    }
    return {
      pipeline: {
        name: definition.name,
        roleArn: `arn:aws:iam::${accountId}:role/${definition.name}-service-role`,
        artifactStore: { type: 'S3', location: `codepipeline-${region}-${accountId}` },
        stages: [
          {
            name: stageName,
            actions: [
              {
                name: stageName,
                actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
              },
            ],
          },
        ],
        version: 1,
        executionMode: definition.executionMode,
        pipelineType: definition.pipelineType,
      },
      metadata: {
        pipelineArn: `arn:aws:codepipeline:${region}:${accountId}:${definition.name}`,
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
    const now = this.clock.now();
    this.settle(pipeline, now);
    const token = request.clientRequestToken;
    const alreadyStarted = token === undefined ? undefined : pipeline.executionIdByClientRequestToken.get(token);
    if (alreadyStarted !== undefined) return { pipelineExecutionId: alreadyStarted };

    pipeline.startedBySequencer += 1;
    const { definition } = pipeline;
    const execution = this.addExecution(pipeline, {
      identity: `${definition.name}/started/${pipeline.startedBySequencer}`,
      origin: 'sequencer',
      startedAt: now,
      durationMs: definition.durationSeconds * secondsToMs,
      outcome: definition.outcomes?.[pipeline.startedBySequencer - 1] ?? definition.outcome,
      ...(definition.statusSummary !== undefined && { statusSummary: definition.statusSummary }),
      variables: request.variables ?? [],
      ...(token !== undefined && { clientRequestToken: token }),
    });
    if (token !== undefined) pipeline.executionIdByClientRequestToken.set(token, execution.pipelineExecutionId);
    return { pipelineExecutionId: execution.pipelineExecutionId };
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
        artifactRevisions: [],
        variables: execution.variables.map((variable) => ({ name: variable.name, resolvedValue: variable.value })),
        trigger: { triggerType: triggerTypeByOrigin[execution.origin] },
        executionMode: pipeline.definition.executionMode,
        executionType: 'STANDARD',
      },
    };
  }

  private listPipelineExecutions(input: unknown) {
    const request = parseRequest(listPipelineExecutionsInput, input);
    const pipeline = this.pipelineNamed(request.pipelineName);
    const now = this.clock.now();
    const newestFirst = this.settle(pipeline, now).reverse();
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
          sourceRevisions: [],
          trigger: { triggerType: triggerTypeByOrigin[execution.origin] },
          ...(stopReason !== undefined && { stopTrigger: { reason: stopReason } }),
          executionMode: pipeline.definition.executionMode,
          executionType: 'STANDARD',
        };
      }),
      ...(nextToken !== undefined && { nextToken }),
    };
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
    // The stage shows the execution that entered it last; superseded ones never held it to the end.
    const inStage = this.settle(pipeline, now)
      .filter((resolved) => resolved.runsFrom <= now)
      .flatMap((resolved) => {
        const { status } = stateAt(resolved, now);
        return status === 'Superseded' ? [] : [{ id: resolved.execution.pipelineExecutionId, status }];
      })
      .at(-1);
    return {
      pipelineName: pipeline.definition.name,
      pipelineVersion: 1,
      stageStates: [
        {
          stageName,
          ...(inStage && {
            latestExecution: {
              pipelineExecutionId: inStage.id,
              status: inStage.status,
              type: 'STANDARD',
            },
          }),
        },
      ],
      created: this.pipelineCreatedTimestamp(),
      updated: this.pipelineCreatedTimestamp(),
    };
  }

  private pipelineNamed(name: string): PipelineState {
    const pipeline = this.pipelines.get(name);
    if (!pipeline) {
      throw new AwsServiceError(
        'PipelineNotFoundException',
        `Account '${accountId}' does not have a pipeline with name '${name}'`,
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
   * end Superseded brings its successor into being at that instant, however late we look.
   */
  private settle(pipeline: PipelineState, now: number): ResolvedExecution[] {
    const { definition } = pipeline;
    for (;;) {
      const timeline = resolveTimeline(pipeline.executions, definition.executionMode);
      const successorDue = timeline.find(
        (resolved) =>
          resolved.endedBy === 'outcome' &&
          resolved.endStatus === 'Superseded' &&
          resolved.endsAt <= now &&
          !pipeline.supersededWithSuccessor.has(resolved.execution.pipelineExecutionId),
      );
      if (!successorDue || !definition.supersededBy) {
        return timeline.filter((resolved) => resolved.execution.startedAt <= now);
      }
      const supersededId = successorDue.execution.pipelineExecutionId;
      pipeline.supersededWithSuccessor.add(supersededId);
      this.addExecution(pipeline, {
        identity: `${supersededId}/superseded-by`,
        origin: 'superseding',
        startedAt: successorDue.endsAt,
        durationMs: definition.supersededBy.durationSeconds * secondsToMs,
        outcome: definition.supersededBy.outcome,
        ...(definition.supersededBy.statusSummary !== undefined && {
          statusSummary: definition.supersededBy.statusSummary,
        }),
      });
    }
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
    spec: Omit<Execution, 'pipelineExecutionId' | 'sequence' | 'variables'> & {
      identity: string;
      variables?: Execution['variables'];
    },
  ): Execution {
    const { identity, variables, ...rest } = spec;
    this.sequence += 1;
    const execution: Execution = {
      ...rest,
      pipelineExecutionId: executionIdFor(identity),
      sequence: this.sequence,
      variables: variables ?? [],
    };
    pipeline.executions.push(execution);
    return execution;
  }

  private pipelineCreatedTimestamp(): number {
    return toEpochSeconds(this.startTimeMs - pipelineCreatedBeforeStartMs);
  }
}

/** AWS JSON protocols carry timestamps as epoch seconds. */
function toEpochSeconds(epochMs: number): number {
  return epochMs / 1000;
}
