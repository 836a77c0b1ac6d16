'use strict';
// What a stage needs to be operated on AWS, beyond the functions and the state machine that
// serverless.yml declares: where failures are told (an SNS topic, readable messages, alarms),
// where the state machine logs, the schedule, and the roles these need. Built here rather than
// in serverless.yml's `resources` because what a stage gets depends on its params (its own topic
// or an existing one, an e-mail subscription or none, as many CodePipeline policies as its
// pipelines need).
const { codePipelinePolicies, scheduleState } = require('./stage-config.cjs');
const { completionResources, eventFunctions, stateMachineTableStatements } = require('./completion-resources.cjs');

/** How Serverless and serverless-step-functions turn a function key or a state machine name into a logical id. */
const normalizedName = (name) => name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore').replace(/^./, (first) => first.toUpperCase());

const failedStatuses = ['FAILED', 'TIMED_OUT', 'ABORTED'];

async function settings(resolveVariable) {
  const read = async (name) => resolveVariable(name);
  const [service, stage, region, functions] = await Promise.all([read('self:service'), read('sls:stage'), read('self:provider.region'), read('self:functions')]);
  const params = {};
  for (const key of [
    'notificationTopicArn',
    'notificationEmail',
    'notifyOnSuccess',
    'logRetentionInDays',
    'tracing',
    'scheduleRate',
    'scheduleTimezone',
    'scheduleInput',
    'scheduleRetryAttempts',
    'scheduleMaxEventAgeSeconds',
    'pipelines',
    'completion',
    'sweepSeconds',
  ]) {
    params[key] = await read(`param:${key}`);
  }
  const stateMachineName = `${service}-${stage}`;
  return {
    service,
    stage,
    region,
    functions,
    params,
    stateMachineName,
    stateMachineId: normalizedName(stateMachineName),
    stateMachineArn: { 'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${stateMachineName}` },
    topicArn: params.notificationTopicArn ? params.notificationTopicArn : { Ref: 'NotificationTopic' },
    scheduleState: await scheduleState(resolveVariable),
  };
}

const assumedBy = (service) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sts:AssumeRole',
      // Only this account's schedules and state machines may use the role (confused deputy).
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    },
  ],
});
const policy = (name, statements) => ({ PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: statements } });

/**
 * The message the topic sends, as EventBridge's input transformer writes it from the
 * "Step Functions Execution Status Change" event. The sequencer's cause already names the
 * pipeline that did not succeed, its execution id and its position, e.g.
 * "P2 (position 2 of 3) execution 0f1e... ended Failed: Unit tests failed".
 */
function readableMessage(s, outcome) {
  const console = 'https://<region>.console.aws.amazon.com/states/home?region=<region>#/v2/executions/details/<executionArn>';
  const lines =
    outcome === 'failed'
      ? [`${s.service} on stage ${s.stage}: run <name> ended <status>.`, '', 'Error: <error>', 'Cause: <cause>']
      : [`${s.service} on stage ${s.stage}: run <name> succeeded.`];
  return {
    InputPathsMap: {
      name: '$.detail.name',
      status: '$.detail.status',
      executionArn: '$.detail.executionArn',
      region: '$.region',
      ...(outcome === 'failed' ? { error: '$.detail.error', cause: '$.detail.cause' } : {}),
    },
    InputTemplate: [...lines, '', 'Execution: <executionArn>', `Console: ${console}`].join('\n'),
  };
}

function notificationRule(s, outcome) {
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      Description: `Tells the ${s.stage} topic when a run of ${s.stateMachineName} ${outcome === 'failed' ? 'fails, times out or is aborted' : 'succeeds'}`,
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: outcome === 'failed' ? failedStatuses : ['SUCCEEDED'], stateMachineArn: [{ Ref: s.stateMachineId }] },
      },
      State: 'ENABLED',
      Targets: [{ Id: 'notification-topic', Arn: s.topicArn, InputTransformer: readableMessage(s, outcome) }],
    },
  };
}

function notifications(s) {
  const resources = { RunFailedNotificationRule: notificationRule(s, 'failed') };
  if (s.params.notifyOnSuccess === true) resources.RunSucceededNotificationRule = notificationRule(s, 'succeeded');
  if (!s.params.notificationTopicArn) {
    resources.NotificationTopic = { Type: 'AWS::SNS::Topic', Properties: { DisplayName: `${s.service} ${s.stage}`.slice(0, 100) } };
    // An existing topic keeps its own policy (replacing it could cut off its other publishers):
    // it must let events.amazonaws.com and cloudwatch.amazonaws.com publish, as the README says.
    resources.NotificationTopicPolicy = {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [{ Ref: 'NotificationTopic' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'RunNotifications',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: 'NotificationTopic' },
              Condition: { ArnEquals: { 'aws:SourceArn': Object.keys(resources).filter((id) => id.endsWith('NotificationRule')).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })) } },
            },
            {
              Sid: 'Alarms',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: 'NotificationTopic' },
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
      },
    };
  }
  if (s.params.notificationEmail) {
    resources.NotificationEmailSubscription = {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: s.topicArn, Protocol: 'email', Endpoint: s.params.notificationEmail },
    };
  }
  return resources;
}

function stateMachineLogs(s) {
  return {
    // /aws/vendedlogs/ keeps CloudWatch Logs' account-wide resource policy (5,120 characters)
    // out of it: Step Functions would otherwise add every log group it writes to there.
    StateMachineLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: `/aws/vendedlogs/states/${s.stateMachineName}`, RetentionInDays: s.params.logRetentionInDays },
    },
  };
}

/** The state machine's own role, so that each grant is scoped here rather than guessed from the definition. */
function stateMachineRole(s) {
  // Only the functions the definition invokes: EventBridge and Scheduler invoke the other two.
  const functionIds = Object.keys(s.functions)
    .filter((key) => !eventFunctions.includes(key))
    .map((key) => `${normalizedName(key)}LambdaFunction`);
  const statements = [
    policy('invoke-functions', [
      {
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: functionIds.flatMap((id) => [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Sub': `\${${id}.Arn}:*` }]),
      },
    ]),
    // A run may start the next run of its own state machine (continue-as-new), nothing else.
    policy('start-own-executions', [{ Effect: 'Allow', Action: ['states:StartExecution'], Resource: s.stateMachineArn }]),
    ...stateMachineTableStatements(s),
    // Log delivery and X-Ray accept no resource narrower than '*' (Step Functions' IAM guide).
    policy('deliver-logs', [
      {
        Effect: 'Allow',
        Action: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        Resource: '*',
      },
    ]),
  ];
  if (s.params.tracing === true) {
    statements.push(
      policy('send-traces', [
        { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], Resource: '*' },
      ]),
    );
  }
  return { StateMachineRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: assumedBy('states.amazonaws.com'), Policies: statements } } };
}

/**
 * EventBridge Scheduler rather than an EventBridge rule: a time zone (daylight saving included)
 * and a retry policy. serverless-step-functions' `method: scheduler` writes neither a retry
 * policy nor tags, and Scheduler's default retries for 24 hours, which could start a release at
 * any hour of the next day.
 */
function schedule(s) {
  return {
    SequencerSchedule: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: `Starts a run of ${s.stateMachineName}`,
        ScheduleExpression: s.params.scheduleRate,
        ScheduleExpressionTimezone: s.params.scheduleTimezone,
        State: s.scheduleState,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { Ref: s.stateMachineId },
          RoleArn: { 'Fn::GetAtt': ['SequencerScheduleRole', 'Arn'] },
          Input: JSON.stringify(s.params.scheduleInput),
          RetryPolicy: { MaximumRetryAttempts: s.params.scheduleRetryAttempts, MaximumEventAgeInSeconds: s.params.scheduleMaxEventAgeSeconds },
        },
      },
    },
    SequencerScheduleRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: assumedBy('scheduler.amazonaws.com'),
        Policies: [policy('start-runs', [{ Effect: 'Allow', Action: ['states:StartExecution'], Resource: { Ref: s.stateMachineId } }])],
      },
    },
  };
}

module.exports = {
  resources: async ({ resolveVariable }) => {
    const s = await settings(resolveVariable);
    return {
      ...notifications(s),
      ...stateMachineLogs(s),
      ...stateMachineRole(s),
      ...schedule(s),
      ...codePipelinePolicies(s.params.pipelines, s.region),
      ...completionResources(s),
    };
  },
  /** serverless-step-functions' `alarms`: one per metric, on this stage's state machine, to the topic. */
  alarms: async ({ resolveVariable }) => {
    const s = await settings(resolveVariable);
    return {
      topics: { alarm: s.topicArn },
      metrics: ['executionsFailed', 'executionsTimedOut', 'executionsAborted', 'executionThrottled'],
      // No executions in a minute is no failure: the alarm goes back to OK rather than INSUFFICIENT_DATA.
      treatMissingData: 'notBreaching',
    };
  },
};
