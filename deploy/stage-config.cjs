'use strict';
// Turns the stage's params into what the functions and IAM need: one STAGE_CONFIG JSON for the
// Lambda environment (src/config.ts validates it), and one ARN per allowed pipeline for IAM.
// serverless.yml cannot map a list to ARNs or an object to JSON by itself.

const configKeys = ['pipelines', 'sequences', 'defaultSequence', 'pollSeconds', 'maxPollSeconds', 'pipelineTimeoutSeconds', 'onSuperseded'];

async function readParams(resolveVariable) {
  const entries = await Promise.all(configKeys.map(async (key) => [key, await resolveVariable(`param:${key}`)]));
  return Object.fromEntries(entries);
}

module.exports = {
  stageConfig: async ({ resolveVariable }) => JSON.stringify(await readParams(resolveVariable)),
  pipelineArns: async ({ resolveVariable }) => {
    const pipelines = await resolveVariable('param:pipelines');
    return pipelines.map((name) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:codepipeline:\${AWS::Region}:\${AWS::AccountId}:${name}`,
    }));
  },
};
