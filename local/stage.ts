import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseStageConfig, type StageConfig } from '../src/config.js';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** Thrown for a command-line problem the user can fix: an unknown stage, an unreadable file. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

type Params = Record<string, Record<string, unknown>>;

function readParams(): Params {
  const service = parse(readFileSync(`${projectRoot}serverless.yml`, 'utf8')) as { params?: Params };
  return service.params ?? {};
}

/**
 * The STAGE_CONFIG a local run hands the functions, built from serverless.yml's params the way
 * Serverless does (`default`, then the stage's own). Locally the allowed pipelines are the
 * world's, narrowed to the stage's list when a stage is named.
 */
export function localStageConfig(worldPipelines: readonly string[], stage?: string): StageConfig {
  const params = readParams();
  if (stage !== undefined && !Object.hasOwn(params, stage)) {
    const stages = Object.keys(params).filter((name) => name !== 'default');
    throw new UsageError(`unknown stage '${stage}': serverless.yml has params for ${stages.join(', ')}`);
  }
  const merged: Record<string, unknown> = { ...params.default, ...(stage === undefined ? {} : params[stage]) };
  const stagePipelines = stage === undefined ? undefined : (merged.pipelines as string[] | undefined);
  const pipelines = worldPipelines.filter((name) => stagePipelines === undefined || stagePipelines.includes(name));
  return parseStageConfig(
    JSON.stringify({
      pipelines,
      sequences: merged.sequences,
      defaultSequence: merged.defaultSequence,
      pollSeconds: merged.pollSeconds,
      maxPollSeconds: merged.maxPollSeconds,
      pipelineTimeoutSeconds: merged.pipelineTimeoutSeconds,
      onSuperseded: merged.onSuperseded,
      completion: merged.completion,
      sweepSeconds: merged.sweepSeconds,
    }),
  );
}

/**
 * The environment a function gets from serverless.yml, pointed at the local emulator through
 * the SDK's own endpoint variables, with dummy credentials the emulator accepts.
 */
export function localLambdaEnvironment(
  endpoint: string,
  config: StageConfig,
  // Quiet unless asked for: SEQUENCER_LOG_LEVEL=INFO shows the functions' JSON logs.
  logLevel = process.env.SEQUENCER_LOG_LEVEL || 'SILENT',
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_CODEPIPELINE: endpoint,
    AWS_ENDPOINT_URL_SFN: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    STAGE_CONFIG: JSON.stringify(config),
    POWERTOOLS_SERVICE_NAME: 'codepipeline-sequencer',
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
}
