import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { startPipeline } from '../src/start.js';
import { parseOrThrow } from '../src/input.js';
import { stepInputSchema } from '../src/run.js';
import { logger } from '../src/logger.js';

export const core = async (event: unknown) => {
  const request = parseOrThrow(stepInputSchema, event, 'event');
  logger.setCorrelationId(request.execution.name);
  const run = await startPipeline(request);
  logger.info('pipeline started', {
    pipelineName: run.current!.pipelineName,
    pipelineExecutionId: run.current!.pipelineExecutionId,
    position: run.current!.position,
    waitSeconds: run.current!.waitSeconds,
  });
  return run;
};

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
