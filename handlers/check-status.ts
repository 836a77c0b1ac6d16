import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { checkPipelines } from '../src/check.js';
import { parseOrThrow } from '../src/parse.js';
import { stepInputSchema, whatWasLeft } from '../src/run.js';
import { withWhatWasLeft } from '../src/errors.js';
import { logger } from '../src/logger.js';
import { beforeTheDeadline } from '../src/deadline.js';

export const core = async (event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const request = parseOrThrow(stepInputSchema, event, 'event');
  logger.setCorrelationId(request.execution.name);
  const run = await beforeTheDeadline(checkPipelines(request), context, 'check-status').catch((error: unknown) => {
    throw withWhatWasLeft(error, whatWasLeft(request.plan, request.run));
  });
  logger.info('pipelines checked', {
    position: run.index,
    phase: run.phase,
    members: run.members.map(({ pipelineName, pipelineExecutionId, status, polls }) => ({ pipelineName, pipelineExecutionId, status, polls })),
    waitSeconds: run.waitSeconds,
    historyEvents: run.history.events,
    ...(run.successor ? { successor: run.successor.executionName } : {}),
  });
  return run;
};

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
