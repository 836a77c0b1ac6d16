import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { sweep } from '../src/sweep.js';
import { logger } from '../src/logger.js';
import { preloadTableClient } from '../src/completion-table.js';
import * as tableSdk from '../src/table-sdk.js';

/** Run by EventBridge Scheduler every `sweepSeconds`: notices the ends whose events were lost. */
export const core = async () => {
  const result = await sweep();
  if (result.ended > 0 || result.resent.includes('completed')) logger.info('sweep noticed ends', result);
  return result;
};

// Meets the completion table on every call: its client loads with the function.
preloadTableClient(tableSdk);

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
