import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parseOrThrow } from '../src/parse.js';
import { logger } from '../src/logger.js';
import { notifierConfig, notifyRun, statusChangeEventSchema } from '../src/notify.js';

/** EventBridge's "Step Functions Execution Status Change" event for a run of this stage. */
export const core = async (event: unknown) => {
  const config = notifierConfig();
  const statusChange = parseOrThrow(statusChangeEventSchema, event, 'event');
  logger.setCorrelationId(statusChange.detail.name);
  const result = await notifyRun(statusChange, config);
  logger.info(result.published ? 'notified' : 'nothing to tell', { status: statusChange.detail.status, ...result });
  return result;
};

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
