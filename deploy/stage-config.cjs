'use strict';
// Turns the stage's params into what the functions and IAM need: the stage config the functions
// read (src/config.ts validates it), and the IAM policies that let them touch the stage's
// pipelines. serverless.yml cannot map a list to ARNs or an object to JSON by itself.

const { stageRefusal } = require('./refusal.cjs');
const configKeys = ['pipelines', 'accounts', 'sequences', 'defaultSequence', 'pollSeconds', 'maxPollSeconds', 'pipelineTimeoutSeconds', 'onSuperseded', 'onFailure', 'completion', 'sweepSeconds'];
const { localPipelines } = require('./targets.cjs');

/** The pipeline names serverless.yml ships with; a stage still using them has not been set up. */
const examplePipelines = ['P1', 'P2', 'P3'];

async function readParams(resolveVariable) {
  const entries = await Promise.all(configKeys.map(async (key) => [key, await resolveVariable(`param:${key}`)]));
  return Object.fromEntries(entries);
}

// Where the stage config lives: inside each function's code, written in by esbuild at package
// time (`process.env.STAGE_CONFIG` in src/config.ts becomes the JSON text), not in the Lambda
// environment. Lambda allows 4 KB for all of a function's environment variables together; a
// stage of 100 pipelines of 100 characters is over 10 KB, and the config accepts 500. In the
// code it has no size limit that matters (it adds bytes to a bundle of about 250 KB), costs no
// API call at cold start (SSM or S3 would), needs no IAM, and changes only with a deploy, as
// the IAM scope built from the same list does. Tests and the local engine, which run the
// TypeScript, still hand it over in the environment. Sequences pass through as opaque JSON:
// src/config.ts alone decides what a sequence may hold.
async function stageConfigJson(resolveVariable) {
  return JSON.stringify(await readParams(resolveVariable));
}

// IAM counts a policy's characters after CloudFormation resolves it, without whitespace. Each
// pipeline is one resolved ARN; the partition is taken at its longest (aws-us-gov) so a
// template that fits here fits in every partition.
const longestPartition = 'aws-us-gov';
const accountId = '123456789012';
const managedPolicyLimit = 6144;
const codePipelineActions = [
  'codepipeline:GetPipeline',
  'codepipeline:StartPipelineExecution',
  'codepipeline:GetPipelineExecution',
  'codepipeline:ListPipelineExecutions',
  // Reads an earlier pipeline's output variables for the values a later one forwards, and where a held failure failed.
  'codepipeline:ListActionExecutions',
  // onFailure wait: whether a later execution ran a held failure's stage, after which no retry can come.
  'codepipeline:GetPipelineState',
];

function policyDocument(resources, actions = codePipelineActions) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resources }] };
}

/**
 * The functions' access to the stage's pipelines, as customer managed policies of at most 6,144
 * characters each, attached to the functions' role. One inline statement would be simpler, but
 * all of a role's inline policies together may hold only 10,240 characters: about 65 pipelines
 * of 100 characters. Managed policies hold about 40 such ARNs each, and a role takes 10 of them.
 */
function codePipelinePolicies(stagePipelines, region, grant = {}) {
  const { actions = codePipelineActions, role = 'IamRoleLambdaExecution', idPrefix = 'CodePipelineAccessPolicy', what = "the sequencer's functions read and start" } = grant;
  // A pipeline in another account is reached through that account's role (deploy/targets.cjs), never granted here.
  const pipelines = localPipelines(stagePipelines);
  if (pipelines.length === 0) return {};
  const resolvedLength = (name) => `"arn:${longestPartition}:codepipeline:${region}:${accountId}:${name}",`.length;
  const emptyLength = JSON.stringify(policyDocument([], actions)).length;
  const chunks = [];
  let chunk = [];
  let length = emptyLength;
  for (const name of pipelines) {
    if (chunk.length > 0 && length + resolvedLength(name) > managedPolicyLimit) {
      chunks.push(chunk);
      chunk = [];
      length = emptyLength;
    }
    chunk.push(name);
    length += resolvedLength(name);
  }
  chunks.push(chunk);
  return Object.fromEntries(
    chunks.map((names, index) => [
      `${idPrefix}${index + 1}`,
      {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Description: `Lets ${what} ${names.length} of the stage's pipelines (part ${index + 1} of ${chunks.length})`,
          Roles: [{ Ref: role }],
          PolicyDocument: policyDocument(
            names.map((name) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:codepipeline:\${AWS::Region}:\${AWS::AccountId}:${name}` })),
            actions,
          ),
        },
      },
    ]),
  );
}

/**
 * The schedule's on/off switch, refused when the stage would run the example pipelines: an
 * account may well have pipelines named P1 to P3, and nobody meant to start them every weekday.
 */
async function scheduleState(resolveVariable) {
  const [enabled, pipelines, stage] = await Promise.all([
    resolveVariable('param:scheduleEnabled'),
    resolveVariable('param:pipelines'),
    resolveVariable('sls:stage'),
  ]);
  if (enabled !== true) return 'DISABLED';
  const examples = pipelines.filter((name) => examplePipelines.includes(name));
  if (examples.length > 0) {
    throw stageRefusal(
      `stage '${stage}' turns its schedule on (scheduleEnabled: true) but still allows the example pipeline${examples.length === 1 ? '' : 's'} ` +
        `${examples.join(', ')}: set params.${stage}.pipelines and params.${stage}.sequences in serverless.yml to your own pipeline names, ` +
        `or set params.${stage}.scheduleEnabled: false`,
    );
  }
  return 'ENABLED';
}

module.exports = {
  examplePipelines,
  codePipelinePolicies,
  scheduleState,
  /** custom.esbuild.define: the stage config, written into the bundle as a string literal. */
  esbuildDefine: async ({ resolveVariable }) => ({
    'process.env.STAGE_CONFIG': JSON.stringify(await stageConfigJson(resolveVariable)),
  }),
};
