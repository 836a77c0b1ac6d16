'use strict';
// Pipelines in other accounts and regions, at package time: the stage's `pipelines` entries may
// be `{ name, arn }`, and `accounts` maps each account that holds some of them to the role the
// functions assume there. This checks them with the same rules as src/config.ts (which checks
// them again when a function starts), and builds the hub's side of the IAM and EventBridge:
// the functions may assume exactly the configured roles, and the default bus admits the
// target accounts' forwarded CodePipeline events.

const pipelineNamePattern = /^[A-Za-z0-9.@\-_]{1,100}$/;
const codePipelineArnPattern = /^arn:(aws|aws-cn|aws-us-gov):codepipeline:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([A-Za-z0-9.@\-_]{1,100})$/;
const roleArnPattern = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const accountIdPattern = /^\d{12}$/;
const organizationIdPattern = /^o-[a-z0-9]{10,32}$/;

const entryName = (entry) => (typeof entry === 'string' ? entry : entry?.name);

/** Every problem with the stage's pipelines and accounts, each one sentence naming the param. */
function targetProblems(pipelines, accounts) {
  const problems = [];
  if (accounts === null || typeof accounts !== 'object' || Array.isArray(accounts)) {
    return ['accounts: must map 12-digit account ids to { roleArn }'];
  }
  const names = new Map();
  const locations = new Map();
  const used = new Set();
  (Array.isArray(pipelines) ? pipelines : []).forEach((entry, index) => {
    const at = `pipelines[${index}]`;
    if (typeof entry !== 'string') {
      const keys = entry && typeof entry === 'object' ? Object.keys(entry).sort().join(',') : '';
      if (keys !== 'arn,name') return problems.push(`${at}: must be a pipeline name or { name, arn }`);
    }
    const name = entryName(entry);
    if (!pipelineNamePattern.test(name)) return problems.push(`${at}: '${name}' is not a valid CodePipeline name`);
    if (names.has(name)) return problems.push(`${at}: '${name}' is listed twice (also pipelines[${names.get(name)}])`);
    names.set(name, index);
    if (typeof entry === 'string') return undefined;
    const match = codePipelineArnPattern.exec(entry.arn);
    if (!match) return problems.push(`${at}.arn: '${entry.arn}' must be arn:aws:codepipeline:<region>:<account>:<pipeline>`);
    const key = `${match[3]}/${match[2]}/${match[4]}`;
    if (locations.has(key)) return problems.push(`${at}.arn: ${entry.arn} is also pipelines[${locations.get(key)}]; a pipeline has one name in a stage`);
    locations.set(key, index);
    if (!Object.hasOwn(accounts, match[3])) return problems.push(`${at}.arn: account ${match[3]} has no role: add accounts."${match[3]}".roleArn`);
    used.add(match[3]);
    return undefined;
  });
  for (const [accountId, account] of Object.entries(accounts)) {
    if (!accountIdPattern.test(accountId)) problems.push(`accounts.${accountId}: must be a 12-digit account id`);
    const role = roleArnPattern.exec(account?.roleArn ?? '');
    if (!role || Object.keys(account).length !== 1) problems.push(`accounts.${accountId}: must be { roleArn: arn:aws:iam::${accountId}:role/<name> }`);
    else if (role[2] !== accountId) problems.push(`accounts.${accountId}.roleArn: ${account.roleArn} is a role in account ${role[2]}, not ${accountId}`);
    if (!used.has(accountId)) problems.push(`accounts.${accountId}: no pipeline of the stage lives in this account; remove it (the hub may assume only roles it needs)`);
  }
  return problems;
}

/** The stage's pipelines in the functions' own account and region: the only ones the hub's role may touch directly. */
const localPipelines = (pipelines) => pipelines.filter((entry) => typeof entry === 'string');

/**
 * The hub's resources for pipelines elsewhere: the functions may assume exactly the configured
 * roles (a managed policy, so its size does not count against the role's inline 10,240), and the
 * default bus admits CodePipeline events from the target accounts, or from the organization.
 * The rule on the bus that feeds the event handler comes with the event path.
 */
function targetResources(accounts, organizationId) {
  const roleArns = Object.values(accounts).map((account) => account.roleArn);
  if (roleArns.length === 0) return {};
  const resources = {
    TargetAccountRolesPolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        Description: `Lets the sequencer's functions assume the role in each of the ${roleArns.length} target accounts, and nothing else`,
        Roles: [{ Ref: 'IamRoleLambdaExecution' }],
        PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: roleArns }] },
      },
    },
  };
  const defaultBus = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' };
  // Only CodePipeline's own events may come in: a target account cannot put anything else here
  // (EventBridge's own example of a source-limited cross-account bus policy).
  const onlyCodePipeline = { 'ForAllValues:StringEquals': { 'events:source': ['aws.codepipeline'] } };
  if (organizationId) {
    resources.TargetEventsBusPolicy = {
      Type: 'AWS::Events::EventBusPolicy',
      Properties: {
        StatementId: 'codepipeline-sequencer-targets-org',
        Statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: defaultBus,
          Condition: { ...onlyCodePipeline, StringEquals: { 'aws:PrincipalOrgID': organizationId } },
        },
      },
    };
    return resources;
  }
  Object.keys(accounts).forEach((accountId) => {
    resources[`TargetEventsBusPolicy${accountId}`] = {
      Type: 'AWS::Events::EventBusPolicy',
      Properties: {
        StatementId: `codepipeline-sequencer-${accountId}`,
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::${accountId}:root` } },
          Action: 'events:PutEvents',
          Resource: defaultBus,
          Condition: onlyCodePipeline,
        },
      },
    };
  });
  return resources;
}

/** Refuses, as one message, a stage whose targets are wrong; the params are read by the caller. */
function checkTargets(stage, pipelines, accounts, organizationId) {
  const problems = targetProblems(pipelines, accounts);
  if (organizationId !== '' && !organizationIdPattern.test(String(organizationId))) {
    problems.push(`targetOrganizationId: '${organizationId}' must be an organization id such as o-a1b2c3d4e5, or ''`);
  }
  if (problems.length > 0) throw new Error(`stage '${stage}' has pipelines it cannot reach:\n- ${problems.join('\n- ')}`);
}

module.exports = { targetProblems, localPipelines, targetResources, checkTargets };
