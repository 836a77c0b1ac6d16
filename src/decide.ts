import { stageConfig } from './config.js';
import { AlreadyRunning, InvalidInput, PipelineNotAllowed } from './errors.js';
import { executionInputSchema, parseOrThrow } from './input.js';
import { getPipelineType } from './codepipeline.js';
import { listRunningExecutions } from './stepfunctions.js';
import { chooseOrder } from './order-policy.js';
import { maxPipelinesPerRun, pipelineNamePattern } from './names.js';
import { nowMs } from './clock.js';
import type { Plan, Run } from './run.js';

/** Step Functions refuses state larger than 256 KiB; keep room for the run's own results. */
export const maxPlanBytes = 200 * 1024;

export interface DecideRequest {
  input: unknown;
  execution: { id: string; name: string; stateMachineArn: string; startTime: string };
}

/**
 * Validates everything and decides the order before anything starts: the input, the order the
 * policy chose, the stage's allow-list, every pipeline's existence, and that no other run of
 * this state machine is in flight. Any failure here means no pipeline was started.
 */
export async function decideOrder({ input, execution }: DecideRequest): Promise<{ plan: Plan; run: Run }> {
  const config = stageConfig();
  const executionInput = parseOrThrow(executionInputSchema, input, 'input');
  const now = new Date(nowMs());
  const { order, source } = chooseOrder({
    input: executionInput,
    sequences: config.sequences,
    defaultSequence: config.defaultSequence,
    now,
  });
  const field = source === 'order' ? 'order' : `sequence '${source.split(':')[1]}'`;

  checkOrder(order, field);
  const allowed = new Set(config.pipelines);
  const disallowed = order.filter((name) => !allowed.has(name));
  if (disallowed.length > 0) {
    throw new PipelineNotAllowed(
      `${field}: ${disallowed.join(', ')} ${disallowed.length === 1 ? 'is' : 'are'} not allowed in this stage; allowed: ${config.pipelines.join(', ')}`,
    );
  }
  const variables = executionInput.variables ?? {};
  for (const name of Object.keys(variables)) {
    if (!order.includes(name)) throw new InvalidInput(`variables.${name}: '${name}' is not in the order (${order.join(', ')})`);
  }

  const plan: Plan = {
    order,
    count: order.length,
    source,
    dryRun: executionInput.dryRun ?? false,
    variables,
    onSuperseded: executionInput.onSuperseded ?? config.onSuperseded,
    pipelineTimeoutSeconds: executionInput.pipelineTimeoutSeconds ?? config.pipelineTimeoutSeconds,
    polling: { pollSeconds: config.pollSeconds, maxPollSeconds: config.maxPollSeconds },
    decidedAt: now.toISOString(),
  };
  const planBytes = Buffer.byteLength(JSON.stringify(plan));
  if (planBytes > maxPlanBytes) {
    throw new InvalidInput(`input: the plan would be ${planBytes} bytes; at most ${maxPlanBytes} fit in Step Functions' 256 KiB state`);
  }

  for (const name of order) {
    const type = await getPipelineType(name);
    if (type === 'V1' && Object.hasOwn(variables, name)) {
      throw new InvalidInput(`variables.${name}: '${name}' is a V1 pipeline; pipeline-level variables need a V2 pipeline`);
    }
  }

  if (!plan.dryRun) {
    // Only an older run blocks this one: when two start together, each sees the other, and
    // exactly one of them (the earlier, ties broken by ARN) must go on.
    const ourStart = Date.parse(execution.startTime);
    const others = (await listRunningExecutions(execution.stateMachineArn)).filter((running) => {
      if (running.executionArn === execution.id) return false;
      const theirStart = running.startDate?.getTime() ?? Number.NEGATIVE_INFINITY;
      return theirStart < ourStart || (theirStart === ourStart && running.executionArn < execution.id);
    });
    if (others.length > 0) {
      const names = others.map((other) => `${other.name} (started ${other.startDate?.toISOString() ?? 'at an unknown time'})`);
      throw new AlreadyRunning(`another run of this state machine is in progress: ${names.join(', ')}; nothing was started`);
    }
  }
  return { plan, run: { index: 0, results: [] } };
}

function checkOrder(order: unknown, field: string): asserts order is string[] {
  if (!Array.isArray(order) || order.length === 0) throw new InvalidInput(`${field}: must name at least one pipeline`);
  if (order.length > maxPipelinesPerRun) throw new InvalidInput(`${field}: must name at most ${maxPipelinesPerRun} pipelines`);
  const seen = new Set<string>();
  order.forEach((name, index) => {
    if (typeof name !== 'string' || !pipelineNamePattern.test(name)) {
      throw new InvalidInput(`${field}[${index}]: ${JSON.stringify(name)} is not a valid CodePipeline name`);
    }
    if (seen.has(name)) throw new InvalidInput(`${field}[${index}]: '${name}' appears twice; each pipeline runs once per run`);
    seen.add(name);
  });
}
