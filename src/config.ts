import * as z from 'zod';
import { ConfigurationError } from './errors.js';
import { maxPipelinesPerRun, pipelineNamePattern, sequenceNamePattern } from './names.js';

const pipelineName = z.string().regex(pipelineNamePattern, 'is not a valid CodePipeline name');

/** The stage's params, as serverless.yml hands them to every function in STAGE_CONFIG. */
const stageConfigSchema = z.strictObject({
  pipelines: z.array(pipelineName).min(1).max(500),
  sequences: z.record(
    z.string().regex(sequenceNamePattern, 'is not a valid sequence name'),
    z.array(pipelineName).min(1).max(maxPipelinesPerRun),
  ),
  defaultSequence: z.string().regex(sequenceNamePattern, 'is not a valid sequence name'),
  pollSeconds: z.number().int().min(1).max(3600),
  maxPollSeconds: z.number().int().min(1).max(86_400),
  pipelineTimeoutSeconds: z.number().int().min(60).max(31_536_000),
  onSuperseded: z.enum(['follow', 'fail']),
});

export type StageConfig = z.infer<typeof stageConfigSchema>;

export function parseStageConfig(raw: string | undefined): StageConfig {
  if (raw === undefined || raw === '') {
    throw new ConfigurationError('STAGE_CONFIG is not set: deploy with serverless.yml, which sets it from the stage params');
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigurationError('STAGE_CONFIG is not valid JSON', { cause: error });
  }
  const parsed = stageConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`STAGE_CONFIG.${issue.path.join('.')}: ${issue.message}`, { cause: parsed.error });
  }
  const config = parsed.data;
  if (config.maxPollSeconds < config.pollSeconds) {
    throw new ConfigurationError('STAGE_CONFIG.maxPollSeconds: must be at least pollSeconds');
  }
  if (!(config.defaultSequence in config.sequences)) {
    throw new ConfigurationError(`STAGE_CONFIG.defaultSequence: '${config.defaultSequence}' is not one of the sequences`);
  }
  return config;
}

let cached: { raw: string | undefined; config: StageConfig } | undefined;

/** The stage config, parsed once per distinct STAGE_CONFIG value (a Lambda sees one). */
export function stageConfig(): StageConfig {
  const raw = process.env.STAGE_CONFIG;
  if (cached && cached.raw === raw) return cached.config;
  const config = parseStageConfig(raw);
  cached = { raw, config };
  return config;
}
