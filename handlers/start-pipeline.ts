import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { startPipelines } from '../src/start.js';
import { parseOrThrow } from '../src/parse.js';
import { stepInputSchema, whatWasLeft } from '../src/run.js';
import { withWhatWasLeft } from '../src/errors.js';
import { logger } from '../src/logger.js';
import { preloadTableClient } from '../src/completion-table.js';
import * as tableSdk from '../src/table-sdk.js';
import { beforeTheDeadline } from '../src/deadline.js';

export const core = async (event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const request = parseOrThrow(stepInputSchema, event, 'event');
  logger.setCorrelationId(request.execution.name);
  const run = await beforeTheDeadline(startPipelines(request), context, 'start-pipeline').catch((error: unknown) => {
    throw withWhatWasLeft(error, whatWasLeft(request.plan, request.run));
  });
  logger.info('pipelines started', {
    position: run.index,
    started: run.members.map(({ pipelineName, pipelineExecutionId, attempt }) => ({ pipelineName, pipelineExecutionId, attempt })),
    waitSeconds: run.waitSeconds,
    historyEvents: run.history.events,
  });
  return run;
};

// Meets the completion table on every call: its client loads with the function.
preloadTableClient(tableSdk);

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
