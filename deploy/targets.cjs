'use strict';
// Pipelines in other accounts and regions, at package time: the stage's `pipelines` entries may
// be `{ name, arn }`, and `accounts` maps each account that holds some of them to the role the
// functions assume there. sls package checks them with src/config.ts's own rules
// (deploy/stage-params.cjs); this builds the hub's side of the IAM and EventBridge:
// the functions may assume exactly the configured roles, and the default bus admits the
// target accounts' forwarded CodePipeline events.

/** The stage's pipelines in the functions' own account and region: the only ones the hub's role may touch directly. */
const localPipelines = (pipelines) => pipelines.filter((entry) => typeof entry === 'string');

/**
 * The hub's resources for pipelines elsewhere: the functions (and the sweeper) may assume exactly the configured
 * roles (a managed policy, so its size does not count against the role's inline 10,240), and the
 * default bus admits CodePipeline events from the target accounts, or from the organization.
 * The rule on the bus that feeds the event handler comes with the event path.
 */
function targetResources(accounts, organizationId, stackName) {
  const roleArns = Object.values(accounts).map((account) => account.roleArn);
  if (roleArns.length === 0) return {};
  const resources = {
    TargetAccountRolesPolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        Description: `Lets the sequencer's functions and its sweeper assume the role in each of the ${roleArns.length} target accounts, and nothing else`,
        // The sweeper reads the executions of an account that forwards no events through that
        // account's role (deploy/completion-resources.cjs SweeperRole); the event function calls no CodePipeline.
        Roles: [{ Ref: 'IamRoleLambdaExecution' }, { Ref: 'SweeperRole' }],
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
        StatementId: statementId(stackName, 'organization'),
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
        StatementId: statementId(stackName, accountId),
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

/**
 * The bus statement's id is its EventBusPolicy's physical id in CloudFormation, unique per account
 * and region across stacks: two stages of one hub that admit the same target account each need
 * their own (the same id made the second stage's stack fail, and deleting one stage's stack
 * would have taken the other's statement with it). The stack's name makes it the stage's.
 */
const statementId = (stackName, admitted) => `${stackName}-${admitted}`;

module.exports = { localPipelines, targetResources, statementId };
