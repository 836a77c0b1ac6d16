'use strict';
// What a stage needs to be operated on AWS, beyond the functions and the state machine that
// serverless.yml declares: where failures are told (an SNS topic, readable messages, alarms),
// where the state machine logs, the schedule, where undelivered notifications and schedule
// starts land (a dead-letter queue, alarmed), and the roles these need. Built here rather than
// in serverless.yml's `resources` because what a stage gets depends on its params (its own topic
// or an existing one, an e-mail subscription or none, as many CodePipeline policies as its
// pipelines need).
const { codePipelinePolicies, scheduleState } = require('./stage-config.cjs');
const { checkStageParams } = require('./stage-params.cjs');

const { runbook } = require('./runbook.cjs');
const { lambdaRole, policy, readRuns, writeLogs } = require('./lambda-role.cjs');

/** The function that writes notifications; the state machine never invokes it. */
const notifierFunction = 'notifyRun';
const { targetResources } = require('./targets.cjs');
const { completionResources, eventFunctions, stateMachineTableStatements } = require('./completion-resources.cjs');

/** How Serverless and serverless-step-functions turn a function key or a state machine name into a logical id. */
const normalizedName = (name) => name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore').replace(/^./, (first) => first.toUpperCase());

const failedStatuses = ['FAILED', 'TIMED_OUT', 'ABORTED'];

async function settings(resolveVariable) {
  const read = async (name) => resolveVariable(name);
  // Every param is checked before any resource is written from it.
  const params = await checkStageParams(resolveVariable);
  const [service, stage, region, functions] = await Promise.all([read('self:service'), read('sls:stage'), read('self:provider.region'), read('self:functions')]);
  const stateMachineName = `${service}-${stage}`;
  return {
    service,
    stage,
    region,
    functions,
    params,
    stateMachineName,
    stateMachineId: normalizedName(stateMachineName),
    notifierId: `${normalizedName(notifierFunction)}LambdaFunction`,
    // Serverless' default function name: the notifier's log group is named after it.
    notifierName: `${service}-${stage}-${notifierFunction}`,
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

/**
 * A run's end goes to the notifyRun function (handlers/notify-run.ts), which writes the message
 * in code and publishes it to the topic. An input transformer cannot: a Lambda error's cause is a
 * JSON document (errorType, errorMessage, trace) that a template can only paste in whole, stack
 * trace included, and it inserts values unescaped. The function also tells a train's end from a
 * continuation's hand-off and from a dry run, which all end SUCCEEDED.
 */
function notificationRule(s, outcome) {
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      Description: `Tells the ${s.stage} topic when a run of ${s.stateMachineName} ${outcome === 'failed' ? 'fails, times out or is stopped' : 'succeeds'}`,
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: outcome === 'failed' ? failedStatuses : ['SUCCEEDED'], stateMachineArn: [{ Ref: s.stateMachineId }] },
      },
      State: 'ENABLED',
      Targets: [
        {
          Id: 'notify-run',
          Arn: { 'Fn::GetAtt': [s.notifierId, 'Arn'] },
          // A day of EventBridge's retries, then the event is kept in the dead-letter queue rather than dropped.
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } },
        },
      ],
    },
  };
}

function notifications(s) {
  const resources = { RunFailedNotificationRule: notificationRule(s, 'failed') };
  if (s.params.notifyOnSuccess === true) resources.RunSucceededNotificationRule = notificationRule(s, 'succeeded');
  const rules = Object.keys(resources);
  for (const rule of rules) {
    resources[`${rule}Permission`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': [s.notifierId, 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
      },
    };
  }
  // The completion rule (completion: events) sends what it could not deliver to the same queue.
  const deliveringRules = s.params.completion === 'events' ? [...rules, 'PipelineEventRule'] : rules;
  Object.assign(resources, notifier(s), deadLetters(s, deliveringRules));
  if (!s.params.notificationTopicArn) {
    resources.NotificationTopic = { Type: 'AWS::SNS::Topic', Properties: { DisplayName: `${s.service} ${s.stage}`.slice(0, 100) } };
    // An existing topic keeps its own policy (replacing it could cut off its other publishers):
    // it must let cloudwatch.amazonaws.com publish, as the README says. The notifier publishes
    // with its own role, which IAM alone allows.
    resources.NotificationTopicPolicy = {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [{ Ref: 'NotificationTopic' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
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
      // retainStateMachine keeps the logs with the state machine: its history without them tells half.
      ...(s.params.retainStateMachine === true ? { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } : {}),
      Properties: { LogGroupName: `/aws/vendedlogs/states/${s.stateMachineName}`, RetentionInDays: s.params.logRetentionInDays },
    },
  };
}

/** The state machine's own role, so that each grant is scoped here rather than guessed from the definition. */
function stateMachineRole(s) {
  // Only the functions the definition invokes: EventBridge and Scheduler invoke the others.
  const functionIds = Object.keys(s.functions)
    .filter((key) => key !== notifierFunction && !eventFunctions.includes(key))
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
          // `scheduled` tells decide-order the start is the schedule's (scheduleWhenBusy applies to it
          // only); Scheduler writes the time it fired in place of its context attribute.
          Input: JSON.stringify({ ...s.params.scheduleInput, scheduled: { whenBusy: s.params.scheduleWhenBusy, at: '<aws.scheduler.scheduled-time>' } }),
          RetryPolicy: { MaximumRetryAttempts: s.params.scheduleRetryAttempts, MaximumEventAgeInSeconds: s.params.scheduleMaxEventAgeSeconds },
          // A start that still failed after the retries is kept there, and alarmed, rather than dropped.
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } },
        },
      },
    },
    SequencerScheduleRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: assumedBy('scheduler.amazonaws.com'),
        Policies: [
          policy('start-runs', [{ Effect: 'Allow', Action: ['states:StartExecution'], Resource: { Ref: s.stateMachineId } }]),
          // Scheduler writes to the dead-letter queue with the schedule's own role.
          policy('dead-letter', [{ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } }]),
        ],
      },
    },
  };
}

/** The notifier's own role: publish to the topic, read this state machine's executions, write its logs and dead letters. */
function notifier(s) {
  return {
    NotifyRunRole: lambdaRole(s, [
      policy('publish-notifications', [{ Effect: 'Allow', Action: ['sns:Publish'], Resource: s.topicArn }]),
      // A success event leaves the output out when it is large: the function reads it back.
      readRuns(s),
      writeLogs(s, notifierFunction),
      policy('dead-letter', [{ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } }]),
    ]),
    // EventBridge invokes the function asynchronously: an invocation that fails (the topic refused
    // the message, say) is retried twice by Lambda, then kept in the dead-letter queue.
    NotifyRunEventInvokeConfig: {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: {
        FunctionName: { Ref: s.notifierId },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } } },
      },
    },
  };
}

/**
 * One queue for everything that could not be delivered: a notification EventBridge could not hand
 * to the notifier, one the notifier could not publish, a start the schedule could not make, a
 * pipeline's end the completion rule could not hand to the event function. Kept
 * 14 days (SQS's longest), alarmed as soon as one message is in it.
 */
function deadLetters(s, rules) {
  return {
    DeliveryDeadLetterQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
    },
    DeliveryDeadLetterQueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'DeliveryDeadLetterQueue' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'UndeliveredNotifications',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': rules.map((rule) => ({ 'Fn::GetAtt': [rule, 'Arn'] })) } },
            },
          ],
        },
      },
    },
    DeliveryDeadLetterAlarm: alarm(s, {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 300,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'QueueName'] } }],
      what: 'a notification, a scheduled start, a CodePipeline event for the runs or an invocation of the event function or the sweeper could not be delivered or failed, and is in the dead-letter queue',
    }),
  };
}

function alarm(s, { what, ...properties }) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: `${s.stateMachineName}: ${what}. What to do: ${runbook}.`,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [s.topicArn],
      // No data is no failure: the alarm goes back to OK rather than INSUFFICIENT_DATA.
      TreatMissingData: 'notBreaching',
      ...properties,
    },
  };
}

/**
 * The state machine's alarms: real failures, timeouts and throttling. Not aborts: a person stopped
 * the run on purpose (the notification still says so), and a scheduled run that found another in
 * flight ends SUCCEEDED with scheduleWhenBusy: skip. Logical ids as serverless-step-functions named them.
 */
function stateMachineAlarms(s) {
  const metrics = [
    ['ExecutionsFailed', 'a run failed'],
    ['ExecutionsTimedOut', 'a run timed out'],
    ['ExecutionThrottled', 'Step Functions throttled this state machine'],
  ];
  return Object.fromEntries(
    metrics.map(([metric, what]) => [
      `${s.stateMachineId}${metric}Alarm`,
      alarm(s, {
        Namespace: 'AWS/States',
        MetricName: metric,
        Statistic: 'Sum',
        Period: 60,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: s.stateMachineId } }],
        what,
      }),
    ]),
  );
}

module.exports = {
  runbook,
  resources: async ({ resolveVariable }) => {
    const s = await settings(resolveVariable);
    return {
      ...notifications(s),
      ...stateMachineAlarms(s),
      ...stateMachineLogs(s),
      ...stateMachineRole(s),
      ...schedule(s),
      ...codePipelinePolicies(s.params.pipelines, s.region),
      ...targetResources(s.params.accounts, s.params.targetOrganizationId, `${s.service}-${s.stage}`),
      ...completionResources(s),
    };
  },
  /** The notifier's environment: where to publish (the stack's topic, or the stage's own). */
  // Read alone, not through settings(): settings() reads the functions, which hold this value.
  topicArn: async ({ resolveVariable }) => (await resolveVariable('param:notificationTopicArn')) || { Ref: 'NotificationTopic' },
};
