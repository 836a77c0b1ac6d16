import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { checkStatus } from '../src/check.js';
import { parseOrThrow } from '../src/input.js';
import { stepInputSchema } from '../src/run.js';
import { logger } from '../src/logger.js';

export const core = async (event: unknown) => {
  const request = parseOrThrow(stepInputSchema, event, 'event');
  logger.setCorrelationId(request.execution.name);
  const run = await checkStatus(request);
  const current = run.current!;
  logger.info('pipeline checked', {
    pipelineName: current.pipelineName,
    pipelineExecutionId: current.pipelineExecutionId,
    status: current.status,
    polls: current.polls,
    waitSeconds: current.waitSeconds,
    ...(current.error ? { error: current.error } : {}),
  });
  return run;
};

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
