import { fileURLToPath } from 'node:url';
import { parseStageConfig, type StageConfig } from '../src/config.js';
import { stageConfigKeys, stageParamProblems } from '../src/stage-params.js';
import { parseCodePipelineArn, type PipelineEntry } from '../src/targets.js';
import { StageParamsError, UsageError } from './refusals.js';
import { readYamlFile } from './yaml-file.js';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

type Params = Record<string, Record<string, unknown>>;

/** osls's own rule for a stage name (lib/utils/stage-pattern.js). */
const stageNamePattern = /^[A-Za-z0-9-]+$/;


/** What a local run reads of serverless.yml: the service's name, its functions' keys and the stage params. */
interface Service {
  service?: string;
  functions?: Record<string, unknown>;
  params?: Params;
}

const readService = () => readYamlFile(`${projectRoot}serverless.yml`) as Service;

/** Lambda's limit on a function's name, which sls makes `<service>-<stage>-<function key>`. */
const functionNameLimit = 64;

/**
 * A stage name osls accepts can still be too long for a name the stage deploys: `sls package`
 * refuses it (deploy/stage-template.cjs), and so does a local run of that stage, with the same
 * words. The function names are the longest that depend on the stage alone.
 */
function checkStageNameFits(stage: string, service: Service): void {
  const functions = Object.entries(service.functions ?? {}) as [string, { name?: unknown } | null][];
  // A name set by hand, or a Serverless variable, is sls's to resolve and check at package time.
  const names = functions
    .map(([key, definition]) => (definition?.name !== undefined ? String(definition.name) : `${service.service}-${stage}-${key}`))
    .filter((name) => !name.includes('${'));
  const longest = names.reduce((longer, name) => (name.length > longer.length ? name : longer), '');
  if (longest.length > functionNameLimit) {
    const fits = functionNameLimit - (longest.length - stage.length);
    throw new UsageError(
      `--stage '${stage}' cannot be packaged: the Lambda function name '${longest}' has ${longest.length} characters; AWS allows ${functionNameLimit} (a stage name of at most ${fits} characters fits)`,
    );
  }
}

/**
 * serverless.yml's params for a stage, merged the way Serverless merges them (`default`, then the
 * stage's own; without a stage, `default` alone), refused with every problem `sls package --stage`
 * would name (src/stage-params.ts), each as the stage's own param or default's. All but two: the
 * example-pipelines rule guards real pipelines named P1 to P3, and a local run starts only the
 * world's; and a Serverless variable's value is sls's to check once it resolves it.
 */
export function stageParams(stage?: string): Record<string, unknown> {
  // A run asks at each of its checks (bin/local.ts) and again in the engine: read and checked once.
  const key = stage ?? '';
  let merged = checkedParams.get(key);
  if (merged === undefined) {
    merged = readStageParams(stage);
    checkedParams.set(key, merged);
  }
  return merged;
}

/** Each stage's params as stageParams found them sound, by stage ('' for none): serverless.yml does not change under a run. */
const checkedParams = new Map<string, Record<string, unknown>>();

function readStageParams(stage: string | undefined): Record<string, unknown> {
  const service = readService();
  const params = service.params ?? {};
  // `sls deploy --stage staging` deploys a stage serverless.yml names no params for, with the
  // defaults; so does a local run. Only a name sls itself would refuse is refused.
  if (stage !== undefined && !stageNamePattern.test(stage)) {
    throw new UsageError(`--stage '${stage}' is not a stage name sls accepts: letters, digits and -`);
  }
  if (stage !== undefined) checkStageNameFits(stage, service);
  // A stage written with nothing under it (`staging:`) reads as null.
  const own = (stage !== undefined && stage !== 'default' && Object.hasOwn(params, stage) ? params[stage] : undefined) ?? {};
  const defaults = params.default ?? {};
  const ownerOf = (name: string) => (stage !== undefined && Object.hasOwn(own, name) ? stage : 'default');
  const written = [...new Set([...Object.keys(defaults), ...Object.keys(own)])];
  const merged: Record<string, unknown> = { ...defaults, ...own };
  // A Serverless variable (`${ssm:...}`, `${env:...}`) is resolved by sls at deploy time, which
  // checks the value then. A run needs only the functions' config, and cannot read one there.
  const variables = Object.keys(merged).filter((name) => JSON.stringify(merged[name] ?? null).includes('${'));
  const needed = variables.filter((name) => (stageConfigKeys as readonly string[]).includes(name));
  const problems = [
    ...needed.map((name) => `params.${ownerOf(name)}.${name} is ${JSON.stringify(merged[name])}: a Serverless variable, which sls resolves at deploy time; a local run needs the value itself`),
    ...stageParamProblems(stage ?? 'default', merged, written, { ownerOf, realPipelines: false }).filter(
      (problem) => !variables.some((name) => problem.startsWith(`params.${ownerOf(name)}.${name} `)),
    ),
  ];
  if (problems.length > 0) throw new StageParamsError(`serverless.yml: ${problems.join('; ')}`);
  return merged;
}

/**
 * The STAGE_CONFIG a local run hands the functions, built from the stage's params (stageParams).
 * Without a stage the allowed pipelines are the world's (one in another account as `{ name, arn }`,
 * with its account's role in `accounts`). With one they are the stage's, as deployed: its entries
 * and roles as written, so the world answers them as AWS would answer the deployed stage. An ARN
 * naming another account, region or pipeline than the world holds is PipelineNotFound, a role the
 * world's account does not have (or whose trust does not admit the hub) PipelineAccessDenied,
 * before anything starts; a name the world lacks is refused by the run before it starts.
 */
export function localStageConfig(
  worldPipelines: readonly PipelineEntry[],
  stage?: string,
  worldAccounts: Record<string, { roleArn: string }> = {},
): StageConfig {
  const merged = stageParams(stage);
  const pipelines = stage === undefined ? [...worldPipelines] : (merged.pipelines as PipelineEntry[]);
  // Only the accounts the allowed pipelines live in: the config refuses a role nobody needs.
  const used = new Set(pipelines.flatMap((entry) => (typeof entry === 'string' ? [] : [parseCodePipelineArn(entry.arn)?.accountId])));
  const accounts =
    stage === undefined
      ? Object.fromEntries(Object.entries(worldAccounts).filter(([accountId]) => used.has(accountId)))
      : ((merged.accounts as Record<string, { roleArn: string }> | undefined) ?? {});
  // The functions' params as serverless.yml sets them; without a stage, the pipelines and accounts the world's.
  const fromParams = Object.fromEntries(stageConfigKeys.filter((key) => key !== 'pipelines' && key !== 'accounts').map((key) => [key, merged[key]]));
  // serverless.yml's params are sound by now: a refusal here is about the world's pipelines.
  return parseStageConfig(JSON.stringify({ pipelines, ...(Object.keys(accounts).length > 0 ? { accounts } : {}), ...fromParams }));
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
