import * as z from 'zod/mini';
import { stageConfig, type StageConfig } from './config.js';
import { InvalidInput, PipelineNotAllowed, PredecessorStillRunning } from './errors.js';
import { executionInputSchema } from './input.js';
import { invalidInput, parseOrThrow } from './parse.js';
import { checkNamedInOrder, checkOrder } from './order-checks.js';
import { describePipeline, type PipelineDescription } from './codepipeline.js';
import { checkReferenceOrder, referenceDeclarationProblems, resolvedBytesBound } from './references.js';
import { variableDeclarationProblems } from './variable-rules.js';
import { mapBounded, retryUnavailable } from './bounded.js';
import { beginInvocation } from './accounts.js';
import { pipelineNames } from './targets.js';
import { describeExecution } from './stepfunctions.js';
import { checkSingleFlight, checkSingleFlightOrSkip } from './single-flight.js';
import { takeRunLock } from './run-lock.js';
import { chooseOrder } from './order-policy.js';
import { maxPipelineTimeoutSeconds } from './names.js';
import { eventsOnTheWay, openingEvents, redriveEvents, taskEvents, waitExtraEvents } from './history-budget.js';
import { continuedAs, executionArnPrefix, predecessorName, successorName } from './continuation.js';
import { nowMs } from './clock.js';
import { secondsUntilNextLook } from './polling.js';
import { membersOf, planSchema, runSchema, type OrderEntry, type PipelineResult, type Plan, type Run } from './run.js';

/**
 * GetPipeline calls in flight at once. 100 pipelines one after another take 100 round trips,
 * and a slow or throttled CodePipeline makes that outlast the function's 30 s; 10 at a time
 * takes a tenth of that and stays as gentle on the account's API rate as one look at a group.
 */
export const describeConcurrency = 10;

/** Each GetPipeline's own retries beyond the SDK's 4 attempts: 16 attempts in all, the backoff under a second. */
const describeRetries = { attempts: 4, baseMs: 100 };

/** Step Functions refuses state larger than 256 KiB; keep room for the run's own results. */
export const maxPlanBytes = 200 * 1024;

export interface DecideRequest {
  input: unknown;
  execution: { id: string; name: string; stateMachineArn: string; startTime: string };
  /** $$.State.RetryCount and $$.Execution.RedriveCount: the history this Task's attempts wrote. */
  retryCount?: number;
  redriveCount?: number;
}

/**
 * Validates everything and decides the order before anything starts: the input, the order the
 * policy chose (entries and groups), the stage's allow-list, every pipeline's existence, and
 * that no other run of this state machine is in flight. Any failure here means no pipeline was
 * started. A continued execution of a train goes through `continueTrain` instead.
 */
export async function decideOrder(request: DecideRequest): Promise<{ plan: Plan; run: Run; skipped?: { reason: string } }> {
  const { input, execution } = request;
  beginInvocation(execution.name);
  const config = stageConfig();
  if (typeof input === 'object' && input !== null && Object.hasOwn(input, 'continuation')) return continueTrain(request, config);
  const executionInput = parseOrThrow(executionInputSchema, input, 'input');
  const now = new Date(nowMs());
  const { order, source } = chooseOrder({
    input: executionInput,
    sequences: config.sequences,
    defaultSequence: config.defaultSequence,
    now,
  });
  const field = source === 'order' ? 'order' : `sequence '${source.split(':')[1]}'`;

  const plan: Plan = {
    order,
    count: order.length,
    source,
    dryRun: executionInput.dryRun ?? false,
    ...(executionInput.from !== undefined ? { from: executionInput.from } : {}),
    variables: executionInput.variables ?? {},
    onSuperseded: executionInput.onSuperseded ?? config.onSuperseded,
    onFailure: executionInput.onFailure ?? config.onFailure,
    pipelineTimeoutSeconds: executionInput.pipelineTimeoutSeconds ?? config.pipelineTimeoutSeconds,
    polling: { pollSeconds: config.pollSeconds, maxPollSeconds: config.maxPollSeconds },
    // Fixed for the run's life, as the deployed definition's wait is: a redrive replays both.
    ...(config.completion === 'events' ? { completion: 'events' as const } : {}),
    ...(config.continueAtEvents !== undefined ? { continueAtEvents: config.continueAtEvents } : {}),
    decidedAt: now.toISOString(),
  };
  checkPlan(plan, config, field);
  const planBytes = Buffer.byteLength(JSON.stringify(plan));
  // Forwarded values are kept on the current entry's members: their largest possible size counts too.
  const forwardedBytes = resolvedBytesBound(plan);
  if (planBytes + forwardedBytes > maxPlanBytes) {
    const forwarded = forwardedBytes > 0 ? `, and the values it forwards up to ${forwardedBytes} more` : '';
    throw new InvalidInput(`input: the plan would be ${planBytes} bytes${forwarded}; at most ${maxPlanBytes} fit in Step Functions' 256 KiB state`);
  }

  const names = order.flatMap(membersOf);
  const described = await mapBounded(names, describeConcurrency, (name) => retryUnavailable(() => describePipeline(name), describeRetries));
  const descriptions = new Map(names.map((name, index) => [name, described[index]!]));
  checkDeclarations(plan, descriptions);

  // completion: events has the completion table, and with it an exact lock; poll reads ListExecutions.
  const takeFlight = () =>
    config.completion === 'events'
      ? takeRunLock({ stateMachineArn: execution.stateMachineArn, originArn: execution.id, executionArn: execution.id, redriveCount: request.redriveCount ?? 0 })
      : checkSingleFlight(execution);
  const skipped = plan.dryRun ? undefined : await checkSingleFlightOrSkip(takeFlight, executionInput.scheduled);
  const startIndex = plan.from === undefined ? 0 : order.findIndex((entry) => membersOf(entry).includes(plan.from!));
  const redriveCount = request.redriveCount ?? 0;
  return {
    plan,
    run: {
      index: startIndex,
      phase: 'start',
      waitSeconds: 0,
      members: [],
      results: order.slice(0, startIndex).flatMap(skippedEntries),
      history: {
        events: openingEvents + redriveCount * redriveEvents + taskEvents(request.retryCount ?? 0),
        pending: eventsOnTheWay.decidedToStart,
      },
      redrives: redriveCount,
      generation: 1,
      origin: { executionArn: execution.id, executionName: execution.name },
    },
    ...(skipped ? { skipped } : {}),
  };
}

const skippedEntries = (entry: OrderEntry, position: number): PipelineResult[] =>
  membersOf(entry).map((pipelineName, member) => ({ position, member, pipelineName, status: 'Skipped' }));

/**
 * What GetPipeline said against what the input asks of each pipeline: its variables, then the
 * references to its outputs. Both are refused at once, so that one run names every problem.
 */
function checkDeclarations(plan: Plan, descriptions: ReadonlyMap<string, PipelineDescription>): void {
  const variableProblems = variableDeclarationProblems(plan, descriptions);
  const problems = [...variableProblems, ...referenceDeclarationProblems(plan, descriptions)];
  if (problems.length === 0) return;
  // A variable problem alone ends as it always has. Numbered problems end as parse.ts ends them,
  // without it: after the last one, '; nothing was started' would read as part of that one.
  throw variableProblems.length === 1 && problems.length === 1 ? new InvalidInput(`${problems[0]}; nothing was started`) : invalidInput(problems);
}

/** Everything about a plan that the stage decides: the order's shape, the allow-list, variables, `from`, limits. */
function checkPlan(plan: Plan, config: StageConfig, field: string): void {
  checkOrder(plan.order, field);
  const names = plan.order.flatMap(membersOf);
  const allowed = new Set(pipelineNames(config));
  const disallowed = names.filter((name) => !allowed.has(name));
  if (disallowed.length > 0) {
    throw new PipelineNotAllowed(
      `${field}: ${disallowed.join(', ')} ${disallowed.length === 1 ? 'is' : 'are'} not allowed in this stage; allowed: ${pipelineNames(config).join(', ')}`,
    );
  }
  checkNamedInOrder(plan.order, plan);
  checkReferenceOrder(plan);
  if (plan.pipelineTimeoutSeconds > maxPipelineTimeoutSeconds) {
    throw new InvalidInput(`pipelineTimeoutSeconds: must be at most ${maxPipelineTimeoutSeconds} seconds`);
  }
}

const continuationSchema = z.strictObject({
  continuation: z.strictObject({ plan: planSchema, run: runSchema }),
  AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: z.string().check(z.minLength(1)),
});

/**
 * A train's next execution, started by its predecessor when that one's history neared the
 * limit. Nothing in its input is taken on trust: the plan is checked against the stage like
 * any input, the run must be a handover to exactly this execution (name derived from the
 * train's first execution), and the predecessor must be a real execution of this state machine
 * that ended by handing over to us. A stopped predecessor stops the train. Single flight is
 * inherited: the predecessor held it, so its own run does not block us.
 */
async function continueTrain(request: DecideRequest, config: StageConfig): Promise<{ plan: Plan; run: Run }> {
  const { execution } = request;
  const { continuation, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: predecessorArn } = parseOrThrow(
    continuationSchema,
    request.input,
    'input',
  );
  const { plan, run } = continuation as { plan: Plan; run: Run };
  const refuse = (reason: string) => new InvalidInput(`continuation: ${reason}; nothing was started`);
  const generation = run.generation + 1;
  const prefix = executionArnPrefix(execution.stateMachineArn);
  if (run.phase !== 'continue' || run.successor === undefined) throw refuse('the run it carries was not handed over');
  if (run.successor.executionName !== execution.name) {
    throw refuse(`it was handed to '${run.successor.executionName}', not to this execution '${execution.name}'`);
  }
  const expectedName = successorName(run.origin.executionName, generation);
  if (expectedName !== execution.name) {
    // The names agree with each other but not with the train: the input was written by hand, not by a predecessor.
    throw refuse(
      `this execution '${execution.name}' is not the next one of the train that began with '${run.origin.executionName}': its generation ${generation} is named '${expectedName}'. A continuation input is written by a train's previous execution, not by hand`,
    );
  }
  if (run.origin.executionArn !== `${prefix}${run.origin.executionName}`) {
    throw refuse(`the train's first execution ${run.origin.executionArn} is not an execution of this state machine`);
  }
  if (predecessorArn !== `${prefix}${predecessorName(run.origin.executionName, generation)}`) {
    throw refuse(`${predecessorArn} is not the execution before this one in its train`);
  }
  checkPlan(plan, config, 'continuation.plan.order');
  if (plan.count !== plan.order.length || run.index >= plan.count) throw refuse('the run does not fit its plan');
  const entry = membersOf(plan.order[run.index]!);
  if (run.members.some((member) => member.position !== run.index || entry[member.member] !== member.pipelineName)) {
    throw refuse(`its members are not the entry at position ${run.index + 1}`);
  }

  const predecessor = await describeExecution(predecessorArn);
  if (predecessor.status === 'RUNNING') {
    throw new PredecessorStillRunning(`continuation: ${predecessorArn} is still handing over to ${execution.name}`);
  }
  const handedTo = continuedAs(predecessor);
  if (handedTo !== execution.id) {
    throw refuse(`${predecessorArn} ended ${predecessor.status} without handing over to this execution (a stopped train does not continue)`);
  }

  // The lock is the train's: the continuation holds it from now on.
  if (plan.completion === 'events') {
    await takeRunLock({ stateMachineArn: execution.stateMachineArn, originArn: run.origin.executionArn, executionArn: execution.id, redriveCount: request.redriveCount ?? 0 });
  }
  const redriveCount = request.redriveCount ?? 0;
  const { successor, ...carried } = run;
  return {
    plan,
    run: {
      ...carried,
      phase: successor.resume,
      // The predecessor measured its wait before the handover, which takes seconds (minutes, when
      // StartExecution is retried): the next look stays due when the predecessor planned it.
      ...(successor.resume === 'watch' ? { waitSeconds: secondsUntilNextLook(carried.members, nowMs()) } : {}),
      generation,
      redrives: redriveCount,
      history: {
        events: openingEvents + redriveCount * redriveEvents + taskEvents(request.retryCount ?? 0),
        pending:
          successor.resume === 'watch'
            ? eventsOnTheWay.decidedToWatch + waitExtraEvents(plan.completion ?? 'poll')
            : eventsOnTheWay.decidedToStart,
      },
    },
  };
}

