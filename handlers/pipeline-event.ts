import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { onPipelineEvent } from '../src/pipeline-event.js';
import { logger } from '../src/logger.js';
import { preloadTableClient } from '../src/completion-table.js';
import * as tableSdk from '../src/table-sdk.js';

/** EventBridge's target for the stage's CodePipeline execution events: wakes the run that waits on the execution. */
export const core = async (event: unknown) => ({ outcome: await onPipelineEvent(event) });

// Meets the completion table on every call: its client loads with the function.
preloadTableClient(tableSdk);

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
