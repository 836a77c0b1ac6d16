import { fileURLToPath } from 'node:url';
import { parseStageConfig, type StageConfig } from '../src/config.js';
import { ConfigurationError } from '../src/errors.js';
import { stageConfigProblems } from '../src/stage-params.js';
import { entryName, parseCodePipelineArn, type PipelineEntry } from '../src/targets.js';
import { StageParamsError, UsageError } from './refusals.js';
import { readYamlFile } from './yaml-file.js';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

type Params = Record<string, Record<string, unknown>>;

/** osls's own rule for a stage name (lib/utils/stage-pattern.js). */
const stageNamePattern = /^[A-Za-z0-9-]+$/;


function readParams(): Params {
  const service = readYamlFile(`${projectRoot}serverless.yml`) as { params?: Params };
  return service.params ?? {};
}

/**
 * The STAGE_CONFIG a local run hands the functions, built from serverless.yml's params the way
 * Serverless does (`default`, then the stage's own). Locally the allowed pipelines are the
 * world's, narrowed to the stage's list when a stage is named; a pipeline in another account
 * comes as `{ name, arn }`, with its account's role in `accounts`.
 */
export function localStageConfig(
  worldPipelines: readonly PipelineEntry[],
  stage?: string,
  worldAccounts: Record<string, { roleArn: string }> = {},
): StageConfig {
  const params = readParams();
  // `sls deploy --stage staging` deploys a stage serverless.yml names no params for, with the
  // defaults; so does a local run. Only a name sls itself would refuse is refused.
  if (stage !== undefined && !stageNamePattern.test(stage)) {
    throw new UsageError(`--stage '${stage}' is not a stage name sls accepts: letters, digits and -`);
  }
  const own = stage !== undefined && stage !== 'default' && Object.hasOwn(params, stage) ? params[stage] : {};
  const merged: Record<string, unknown> = { ...params.default, ...own };
  const stagePipelines = stage === undefined ? undefined : (merged.pipelines as PipelineEntry[] | undefined)?.map(entryName);
  const pipelines = worldPipelines.filter((entry) => stagePipelines === undefined || stagePipelines.includes(entryName(entry)));
  // Only the accounts the allowed pipelines live in: the config refuses a role nobody needs.
  const used = new Set(pipelines.flatMap((entry) => (typeof entry === 'string' ? [] : [parseCodePipelineArn(entry.arn)?.accountId])));
  const accounts = Object.fromEntries(Object.entries(worldAccounts).filter(([accountId]) => used.has(accountId)));
  const stageConfig = JSON.stringify({
    pipelines,
    ...(Object.keys(accounts).length > 0 ? { accounts } : {}),
    sequences: merged.sequences,
    defaultSequence: merged.defaultSequence,
    pollSeconds: merged.pollSeconds,
    maxPollSeconds: merged.maxPollSeconds,
    pipelineTimeoutSeconds: merged.pipelineTimeoutSeconds,
    onSuperseded: merged.onSuperseded,
    onFailure: merged.onFailure,
    completion: merged.completion,
    sweepSeconds: merged.sweepSeconds,
  });
  try {
    return parseStageConfig(stageConfig);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    // The pipelines are the world's (and its accounts' roles): the caller says what of the world
    // does not fit. Any other param is serverless.yml's, named as sls package names it.
    const stageOf = (name: string) => (stage !== undefined && own !== undefined && Object.hasOwn(own, name) ? stage : 'default');
    const problems = stageConfigProblems(stageOf, merged, error);
    if (problems.some(({ name }) => name === 'pipelines' || name === 'accounts')) throw error;
    throw new StageParamsError(`serverless.yml: ${problems.map(({ line }) => line).join('; ')}`, { cause: error });
  }
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
    // AssumeRole for pipelines in the world's other accounts.
    AWS_ENDPOINT_URL_STS: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    STAGE_CONFIG: JSON.stringify(config),
    POWERTOOLS_SERVICE_NAME: 'codepipeline-sequencer',
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
}
