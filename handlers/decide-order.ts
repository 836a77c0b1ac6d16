import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import * as z from 'zod/mini';
import { decideOrder } from '../src/decide.js';
import { parseOrThrow } from '../src/parse.js';
import { logger } from '../src/logger.js';
import { preloadTableClient } from '../src/completion-table.js';
import * as tableSdk from '../src/table-sdk.js';
import { beforeTheDeadline } from '../src/deadline.js';

/** What the DecideOrder state passes: the execution input as given, and who is asking. */
const eventSchema = z.strictObject({
  input: z.unknown(),
  execution: z.strictObject({
    id: z.string().check(z.minLength(1)),
    name: z.string().check(z.minLength(1)),
    stateMachineArn: z.string().check(z.minLength(1)),
    startTime: z.iso.datetime({ offset: true }),
  }),
  retryCount: z.int().check(z.minimum(0)),
  redriveCount: z.int().check(z.minimum(0)),
});

export const core = async (event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const request = parseOrThrow(eventSchema, event, 'event');
  logger.setCorrelationId(request.execution.name);
  // Up to 100 GetPipeline calls: give up by name before the function's timeout, as start and check do.
  const decision = await beforeTheDeadline(decideOrder(request), context, 'decide-order');
  logger.info('order decided', {
    order: decision.plan.order,
    source: decision.plan.source,
    generation: decision.run.generation,
    dryRun: decision.plan.dryRun,
    ...(decision.skipped ? { skipped: decision.skipped.reason } : {}),
    variableNames: Object.fromEntries(Object.entries(decision.plan.variables).map(([name, values]) => [name, Object.keys(values)])),
  });
  return decision;
};

// Meets the completion table on every call: its client loads with the function.
preloadTableClient(tableSdk);

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
