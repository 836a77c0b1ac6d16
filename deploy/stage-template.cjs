'use strict';
// A local Serverless plugin (serverless.yml `plugins`) that finishes the template `sls package`
// writes, once every other plugin has added its resources:
// - tags every resource that takes tags with the service and the stage;
// - refuses a stage whose template breaks an AWS limit (a name too long, a Lambda environment
//   over 4 KB, an IAM policy too large), which CloudFormation would otherwise report halfway
//   through a deploy, or never.

/** The resource types in this template that take Tags (all as a list of Key/Value), per CloudFormation's schemas. */
const taggableTypes = new Set([
  'AWS::CloudWatch::Alarm',
  'AWS::DynamoDB::Table',
  'AWS::Events::Rule',
  'AWS::IAM::Role',
  'AWS::Lambda::Function',
  'AWS::Logs::LogGroup',
  'AWS::S3::Bucket',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::StepFunctions::StateMachine',
]);

/** Name limits, from each service's API reference. */
const nameLimits = [
  { type: 'AWS::Lambda::Function', property: 'FunctionName', what: 'Lambda function name', max: 64, pattern: /^[a-zA-Z0-9_-]+$/ },
  { type: 'AWS::IAM::Role', property: 'RoleName', what: 'IAM role name', max: 64, pattern: /^[\w+=,.@-]+$/ },
  { type: 'AWS::IAM::ManagedPolicy', property: 'ManagedPolicyName', what: 'IAM managed policy name', max: 128 },
  // Step Functions logs to CloudWatch Logs only for names of 0-9, A-Z, a-z, - and _.
  { type: 'AWS::StepFunctions::StateMachine', property: 'StateMachineName', what: 'state machine name', max: 80, pattern: /^[a-zA-Z0-9_-]+$/ },
  { type: 'AWS::Logs::LogGroup', property: 'LogGroupName', what: 'log group name', max: 512 },
  { type: 'AWS::Events::Rule', property: 'Name', what: 'EventBridge rule name', max: 64 },
  { type: 'AWS::Scheduler::Schedule', property: 'Name', what: 'schedule name', max: 64 },
  { type: 'AWS::SNS::Topic', property: 'TopicName', what: 'SNS topic name', max: 256 },
  { type: 'AWS::SNS::Topic', property: 'DisplayName', what: 'SNS topic display name', max: 100 },
  { type: 'AWS::CloudWatch::Alarm', property: 'AlarmName', what: 'alarm name', max: 255 },
  { type: 'AWS::Events::EventBusPolicy', property: 'StatementId', what: 'event bus statement id', max: 64, pattern: /^[a-zA-Z0-9_-]+$/ },
];
const lambdaEnvironmentLimit = 4096;
const inlinePoliciesPerRoleLimit = 10240;
const managedPolicyLimit = 6144;
const trustPolicyLimit = 2048;
const managedPoliciesPerRoleLimit = 10;
const stackNameLimit = 128;

// IAM and Lambda count what CloudFormation resolves. Each intrinsic is resolved to its longest
// likely value: the longest partition, this region, a 12-digit account, and for another
// resource's name or ARN, its name if the template gives one, else 64 characters.
function resolver(template, { service, stage, region }) {
  const partition = 'aws-us-gov';
  const pseudo = {
    'AWS::Region': region,
    'AWS::Partition': partition,
    'AWS::AccountId': '123456789012',
    'AWS::StackName': `${service}-${stage}`,
    'AWS::URLSuffix': 'amazonaws.com.cn',
  };
  const nameOf = (id) => {
    const properties = template.Resources[id]?.Properties ?? {};
    const named = Object.entries(properties).find(([key, value]) => /Name$/.test(key) && typeof value === 'string');
    return named ? named[1] : 'x'.repeat(64);
  };
  const arnOf = (id) => `arn:${partition}:service:${region}:123456789012:resource:${nameOf(id)}`;
  const reference = (name) => {
    if (name in pseudo) return pseudo[name];
    const [id, attribute] = name.split('.');
    return attribute === undefined ? nameOf(id) : arnOf(id);
  };
  const resolve = (value) => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    if ('Ref' in value) return reference(value.Ref);
    if ('Fn::GetAtt' in value) return arnOf([value['Fn::GetAtt']].flat().join('.').split('.')[0]);
    if ('Fn::Join' in value) return resolve(value['Fn::Join'][1]).join(value['Fn::Join'][0]);
    if ('Fn::Sub' in value) {
      const [text, variables = {}] = [value['Fn::Sub']].flat();
      return text.replace(/\$\{([^}!]+)\}/g, (_, name) => (name in variables ? String(resolve(variables[name])) : reference(name)));
    }
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
  };
  return resolve;
}

/** Every way the template breaks a limit, each as one sentence that names the limit. */
function limitProblems(template, context) {
  const resolve = resolver(template, context);
  const problems = [];
  const fits = (name, max) =>
    name.includes(context.stage) ? ` (a stage name of at most ${max - (name.length - context.stage.length)} characters fits)` : '';
  const stackName = `${context.service}-${context.stage}`;
  if (stackName.length > stackNameLimit) {
    problems.push(`the stack name '${stackName}' has ${stackName.length} characters; CloudFormation allows ${stackNameLimit}${fits(stackName, stackNameLimit)}`);
  }
  const resources = Object.entries(template.Resources);
  for (const [id, resource] of resources) {
    const properties = resource.Properties ?? {};
    for (const { type, property, what, max, pattern } of nameLimits) {
      if (resource.Type !== type || properties[property] === undefined) continue;
      const name = String(resolve(properties[property]));
      if (name.length > max) problems.push(`the ${what} '${name}' has ${name.length} characters; AWS allows ${max}${fits(name, max)}`);
      if (pattern && !pattern.test(name)) problems.push(`the ${what} '${name}' may hold only the characters ${pattern.source.slice(2, -3)}`);
    }
    if (resource.Type === 'AWS::Lambda::Function') {
      const variables = resolve(properties.Environment?.Variables ?? {});
      const size = Object.entries(variables).reduce((total, [key, value]) => total + key.length + String(value).length, 0);
      if (size > lambdaEnvironmentLimit) {
        problems.push(`${id}'s environment variables take ${size} bytes; Lambda allows ${lambdaEnvironmentLimit} in all`);
      }
    }
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      const size = JSON.stringify(resolve(properties.PolicyDocument)).length;
      if (size > managedPolicyLimit) problems.push(`the managed policy ${id} has ${size} characters; IAM allows ${managedPolicyLimit}`);
    }
    if (resource.Type === 'AWS::IAM::Role') {
      const inline = (properties.Policies ?? []).reduce((total, { PolicyDocument }) => total + JSON.stringify(resolve(PolicyDocument)).length, 0);
      if (inline > inlinePoliciesPerRoleLimit) {
        problems.push(`the inline policies of role ${id} have ${inline} characters; IAM allows ${inlinePoliciesPerRoleLimit} per role`);
      }
      const trust = JSON.stringify(resolve(properties.AssumeRolePolicyDocument ?? {})).length;
      if (trust > trustPolicyLimit) problems.push(`the trust policy of role ${id} has ${trust} characters; IAM allows ${trustPolicyLimit}`);
      const attached =
        (properties.ManagedPolicyArns ?? []).length +
        resources.filter(([, other]) => other.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(other.Properties.Roles ?? []).includes(`"${id}"`)).length;
      if (attached > managedPoliciesPerRoleLimit) {
        problems.push(`role ${id} would have ${attached} managed policies; IAM allows ${managedPoliciesPerRoleLimit} per role by default`);
      }
    }
  }
  return problems;
}

/** A resource kept when the stack is deleted is kept when CloudFormation replaces it, too. */
function retainOnReplacement(template) {
  for (const resource of Object.values(template.Resources)) {
    if (resource.DeletionPolicy === 'Retain' && resource.UpdateReplacePolicy === undefined) resource.UpdateReplacePolicy = 'Retain';
  }
}

/**
 * Drops a DependsOn that a Ref or GetAtt in the same resource already enforces: Serverless adds
 * one for a function's own `role`, and cfn-lint warns of it (W3005).
 */
function dropRedundantDependsOn(template) {
  for (const resource of Object.values(template.Resources)) {
    if (resource.DependsOn === undefined) continue;
    const properties = JSON.stringify(resource.Properties ?? {});
    const enforced = (id) => properties.includes(`{"Ref":"${id}"}`) || properties.includes(`{"Fn::GetAtt":["${id}",`);
    const kept = [resource.DependsOn].flat().filter((id) => !enforced(id));
    if (kept.length === 0) delete resource.DependsOn;
    else resource.DependsOn = kept;
  }
}

/** Adds (or overwrites) the service and stage tags on every resource that takes tags. */
function tagResources(template, { service, stage }) {
  const ours = [
    { Key: 'service', Value: service },
    { Key: 'stage', Value: stage },
  ];
  for (const resource of Object.values(template.Resources)) {
    if (!taggableTypes.has(resource.Type)) continue;
    resource.Properties = resource.Properties ?? {};
    const others = (resource.Properties.Tags ?? []).filter((tag) => !ours.some(({ Key }) => Key === tag.Key));
    resource.Properties.Tags = [...others, ...ours];
  }
}

class StageTemplate {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:aws:package:finalize:saveServiceState': () => this.finish() };
  }

  finish() {
    const provider = this.serverless.getProvider('aws');
    const context = { service: this.serverless.service.service, stage: provider.getStage(), region: provider.getRegion() };
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    tagResources(template, context);
    retainOnReplacement(template);
    dropRedundantDependsOn(template);
    const problems = limitProblems(template, context);
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(`stage '${context.stage}' cannot be packaged in ${context.region}:\n- ${problems.join('\n- ')}`);
    }
  }
}

module.exports = StageTemplate;
module.exports.limitProblems = limitProblems;
module.exports.taggableTypes = taggableTypes;
