import { Logger } from '@aws-lambda-powertools/logger';

/** One logger for the service; handlers set the execution name as the correlation id. Never log variable values. */
export const logger = new Logger({ serviceName: 'codepipeline-sequencer' });
