'use strict';
// What `completion: events` adds to a stage (deploy/operations.cjs merges it in): the completion
// table, the rule that sends CodePipeline's execution ends to the event function (its dead
// letters go to the stage's delivery queue, deploy/operations.cjs; an alarm on failed deliveries), the sweeper's schedule, and the two
// functions' own roles. With `completion: poll` none of it exists but the two roles, which the
// always-declared functions name (serverless.yml cannot declare a function for one stage only).
const { codePipelinePolicies } = require('./stage-config.cjs');
const { pipelineEventPattern } = require('./completion.cjs');
const { runbook } = require('./runbook.cjs');
const { lambdaRole, policy, readRuns, writeLogs } = require('./lambda-role.cjs');

const completionTableName = (service, stage) => `${service}-${stage}-completion`;
const tableArn = (service, stage) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${completionTableName(service, stage)}`,
});
const statement = (actions, resource) => ({ Effect: 'Allow', Action: actions, Resource: resource });
const deadLetterQueueArn = { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] };

/** A function's own role: its log group, the completion table, and completing task tokens. */
function functionRole(s, functionName, extraStatements) {
  return lambdaRole(s, [
    writeLogs(s, functionName),
    policy('meet-waiting-runs', [
      // No DeleteItem: neither deletes an item, and with it either could delete the stage's run lock.
      statement(['dynamodb:GetItem', 'dynamodb:UpdateItem'], tableArn(s.service, s.stage)),
      // Task tokens of service-integration Tasks cannot be scoped by IAM (only activities can): the action is the scope.
      statement(['states:SendTaskSuccess'], '*'),
    ]),
    ...extraStatements,
  ]);
}

/** Scheduler's rate takes whole minutes: sweepSeconds must be a multiple of 60, from 60 to 3,600. */
function sweepRate(sweepSeconds) {
  if (!Number.isInteger(sweepSeconds) || sweepSeconds < 60 || sweepSeconds > 3600 || sweepSeconds % 60 !== 0) {
    throw new Error(`sweepSeconds must be a whole number of minutes from 60 to 3600, got ${JSON.stringify(sweepSeconds)}`);
  }
  const minutes = sweepSeconds / 60;
  return `rate(${minutes} minute${minutes === 1 ? '' : 's'})`;
}

function completionResources(s) {
  const { service, stage, params } = s;
  // Lambda sends a failed invocation to the dead-letter queue with the function's own role, and
  // checks the grant when the destination is set: so it is in the role, made before the function.
  const deadLetters = params.completion === 'events' ? [policy('dead-letter', [statement(['sqs:SendMessage'], deadLetterQueueArn)])] : [];
  const roles = {
    PipelineEventRole: functionRole(s, 'pipelineEvent', deadLetters),
    SweeperRole: functionRole(s, 'sweeper', [
      // Scan reads the open watches; GetPipelineExecution is granted below, pipeline by pipeline.
      policy('read-open-watches', [statement(['dynamodb:Scan'], tableArn(service, stage))]),
      // Whether the run of a watch it cannot read has ended (src/sweep.ts watcherEnded): this state machine's runs only.
      readRuns(s),
      ...deadLetters,
    ]),
    ...codePipelinePolicies(params.pipelines, s.region, {
      // GetPipelineState and ListActionExecutions: whether a held failure can still be retried (src/codepipeline.ts retryOvertaken).
      actions: ['codepipeline:GetPipelineExecution', 'codepipeline:GetPipelineState', 'codepipeline:ListActionExecutions'],
      role: 'SweeperRole',
      idPrefix: 'SweeperCodePipelinePolicy',
      what: 'the sweeper read the executions of',
    }),
  };
  if (params.completion !== 'events') return roles;
  return {
    ...roles,
    ...invocationFailures(),
    CompletionTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: completionTableName(service, stage),
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        // Deletes within days of expiry, not at it: the code ignores expired items itself.
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      },
    },
    PipelineEventRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `Wakes ${s.stateMachineName}'s runs when one of the stage's pipeline executions ends`,
        EventBusName: 'default',
        EventPattern: pipelineEventPattern(params.pipelines),
        State: 'ENABLED',
        Targets: [
          {
            Id: 'pipeline-event',
            Arn: { 'Fn::GetAtt': ['PipelineEventLambdaFunction', 'Arn'] },
            // EventBridge's own bounds: a day of retries, then the dead-letter queue.
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } },
          },
        ],
      },
    },
    PipelineEventPermission: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: 'PipelineEventLambdaFunction' },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['PipelineEventRule', 'Arn'] },
      },
    },
    // A failed delivery is a run that waits for the sweeper: tell people, the sweeper keeps the runs going.
    PipelineEventDeliveryAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `CodePipeline events did not reach ${s.service}-${stage}-pipelineEvent; runs notice ends through the sweeper until fixed. What to do: ${runbook}.`,
        Namespace: 'AWS/Events',
        MetricName: 'FailedInvocations',
        Dimensions: [{ Name: 'RuleName', Value: { Ref: 'PipelineEventRule' } }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [s.topicArn],
      },
    },
    SweeperSchedule: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: `Notices the pipeline ends whose events ${s.stateMachineName}'s runs missed`,
        ScheduleExpression: sweepRate(params.sweepSeconds),
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': ['SweeperLambdaFunction', 'Arn'] },
          RoleArn: { 'Fn::GetAtt': ['SweeperScheduleRole', 'Arn'] },
          // A missed sweep is made good by the next one.
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      },
    },
    SweeperScheduleRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
        Policies: [policy('invoke-sweeper', [statement(['lambda:InvokeFunction'], { 'Fn::GetAtt': ['SweeperLambdaFunction', 'Arn'] })])],
      },
    },
  };
}

/**
 * EventBridge and Scheduler invoke both functions asynchronously: once Lambda has taken the event,
 * the rule's retry policy and dead-letter queue are done with it, and an invocation that fails
 * (DynamoDB or SendTaskSuccess refused, a timeout) is retried twice by Lambda and then dropped,
 * with FailedInvocations still at zero. Lambda sends what it drops to the stage's dead-letter
 * queue instead, whose alarm tells people. A sweep is not retried: the next one is a minute
 * away, and one that waited in Lambda's queue longer than that (throttled) would only repeat it;
 * Lambda sends such an expired sweep to the queue too, so a sweeper throttled for a minute alarms.
 */
function invocationFailures() {
  const onFailure = (functionId, retries, maximumAge) => ({
    Type: 'AWS::Lambda::EventInvokeConfig',
    Properties: {
      FunctionName: { Ref: functionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: retries,
      ...(maximumAge !== undefined && { MaximumEventAgeInSeconds: maximumAge }),
      DestinationConfig: { OnFailure: { Destination: deadLetterQueueArn } },
    },
  });
  return {
    PipelineEventInvokeConfig: onFailure('PipelineEventLambdaFunction', 2),
    SweeperInvokeConfig: onFailure('SweeperLambdaFunction', 0, 60),
  };
}

/** The state machine's grant: the callback Task writes the run's wait item, nothing else. */
function stateMachineTableStatements(s) {
  if (s.params.completion !== 'events') return [];
  return [policy('store-task-tokens', [statement(['dynamodb:UpdateItem'], tableArn(s.service, s.stage))])];
}

module.exports = { completionResources, stateMachineTableStatements, completionTableName, sweepRate, eventFunctions: ['pipelineEvent', 'sweeper'] };
