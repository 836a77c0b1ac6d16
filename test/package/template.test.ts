import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { parse, stringify } from 'yaml';
import { parseStageConfig } from '../../src/config.js';
import { lintTogether } from '../support/cfn-lint.js';
import { actionsAllowed, roleOfFunction } from '../support/iam.js';
import { slsPackage, slsRefusal, type Packaged } from '../support/sls.js';

/**
 * What `sls package` writes, checked the way serverless-step-functions checks its own
 * fixtures: the template is what CloudFormation will deploy. Packaging runs offline.
 */
// CloudFormation properties are free-form JSON; the assertions say what shape they expect.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Template = { Resources: Record<string, Resource> };

// A stage at the scale the issue names: 100 pipelines of 100 characters, 10 sequences, and every
// optional extra turned on, under the longest stage name a function name fits (27 characters).
// It lives in a temporary copy of serverless.yml, beside it.
const scaleStage = 'the-largest-stage-name-fits';
const examplesStage = 'scheduled-examples';
const scaleConfig = 'serverless-scale-test.yml';
const pipelineName = (index: number) => `pipeline-${String(index).padStart(3, '0')}-`.padEnd(100, 'x');
const scalePipelines = Array.from({ length: 100 }, (_, index) => pipelineName(index));
const existingTopic = 'arn:aws:sns:us-east-1:123456789012:team-alerts';
const scaleParams = {
  pipelines: scalePipelines,
  sequences: Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`sequence${index}`, scalePipelines.slice(index * 10, index * 10 + 10)])),
  defaultSequence: 'sequence0',
  notificationTopicArn: existingTopic,
  notificationEmail: 'team@example.com',
  notifyOnSuccess: true,
  logLevel: 'ALL',
  tracing: true,
  scheduleEnabled: true,
  scheduleTimezone: 'Europe/Paris',
  scheduleInput: { sequence: 'sequence3' },
};
const tooLongStage = 'a-stage-name-of-28-characters';
// The stage the issue tried: every param AWS would refuse only at deploy time, or on every scheduled run.
const badParamsStage = 'bad-params';
const badParams = {
  ...scaleParams,
  scheduleRetryAttempts: 500,
  scheduleMaxEventAgeSeconds: 30,
  scheduleTimezone: 'Mars/Olympus',
  scheduleRate: 'rate(every day)',
  scheduleInput: { sequence: 'nope', typo: 1 },
  notifyOnSuccess: 'true',
};
// How ends are noticed, wrong both ways: the definition's resolver and the params' check each see it.
const badCompletionStage = 'bad-completion';
const badCompletion = { ...scaleParams, completion: 'event', sweepSeconds: 90 };

const packaged: Record<string, Packaged<Template>> = {};
const refusals: Record<string, string> = {};

beforeAll(async () => {
  const service = parse(readFileSync('serverless.yml', 'utf8')) as { params: Record<string, unknown> };
  service.params[scaleStage] = scaleParams;
  // Said to mean the examples, so that only the schedule's own refusal speaks.
  service.params[examplesStage] = { scheduleEnabled: true, allowExamplePipelines: true };
  service.params[badParamsStage] = badParams;
  service.params[badCompletionStage] = badCompletion;
  // Meant, so that only the name limit speaks.
  service.params[tooLongStage] = { allowExamplePipelines: true };
  // serverless.yml's prod keeps the example pipelines, which sls package refuses (below); packaged
  // here as a prod that says it means them, to check everything else about a prod stack.
  service.params.prod = { ...(service.params.prod as object), allowExamplePipelines: true };
  writeFileSync(scaleConfig, stringify(service));
  // The packages one after the other: serverless-esbuild builds in one shared .esbuild folder,
  // and two packages at once can wait on each other forever. The refusals, each in a copy of the
  // service, beside them.
  const builds = async () => {
    packaged.dev = await slsPackage('dev');
    packaged.prod = await slsPackage('prod', { config: scaleConfig });
    packaged[scaleStage] = await slsPackage(scaleStage, { config: scaleConfig });
  };
  const refused = async () => {
    refusals.prod = await slsRefusal('prod');
    refusals[examplesStage] = await slsRefusal(examplesStage, { config: scaleConfig });
    refusals[badParamsStage] = await slsRefusal(badParamsStage, { config: scaleConfig });
    refusals[badCompletionStage] = await slsRefusal(badCompletionStage, { config: scaleConfig });
    refusals[tooLongStage] = await slsRefusal(tooLongStage, { config: scaleConfig });
  };
  const outcomes = await Promise.allSettled([builds(), refused()]);
  rmSync(scaleConfig, { force: true });
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}, 300_000);

const resources = (stage: string, type: string) => Object.entries(packaged[stage]!.template.Resources).filter(([, resource]) => resource.Type === type);
const completionTableArn = (stage: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/codepipeline-sequencer-${stage}-completion`,
});
const only = (stage: string, type: string) => {
  const found = resources(stage, type);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const resource = (stage: string, id: string) => packaged[stage]!.template.Resources[id]!;
type Statement = { Effect: string; Action: string[]; Resource: unknown };
const statements = (role: Resource): Statement[] =>
  role.Properties.Policies.flatMap((policy: { PolicyDocument: { Statement: Statement[] } }) => policy.PolicyDocument.Statement);
const machineId = (stage: string) => only(stage, 'AWS::StepFunctions::StateMachine')[0];
const machineName = (stage: string) => `codepipeline-sequencer-${stage}`;
const ownArn = (stage: string, kind: 'stateMachine' | 'execution') => ({
  'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:${kind}:${machineName(stage)}${kind === 'execution' ? ':*' : ''}`,
});

/** The files of a package's zip (stored or deflated, as the packager writes them), by name, read from its central directory. */
function zipEntries(zipFile: string): Map<string, () => string> {
  const zip = readFileSync(zipFile);
  let offset = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(offset + 10);
  offset = zip.readUInt32LE(offset + 16);
  const entries = new Map<string, () => string>();
  for (let entry = 0; entry < count; entry += 1) {
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    entries.set(zip.toString('utf8', offset + 46, offset + 46 + nameLength), () => {
      const start = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(start, start + compressedSize);
      return (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** One file out of a package's zip. */
function readFromZip(zipFile: string, name: string): string {
  const read = zipEntries(zipFile).get(name);
  if (read === undefined) throw new Error(`${name} is not in ${zipFile}`);
  return read();
}

/** The stage config esbuild wrote into a bundle: the JSON object literal that starts with its pipelines. */
function bundledStageConfig(bundle: string) {
  const start = bundle.indexOf('{"pipelines":');
  expect(start).toBeGreaterThan(-1);
  let depth = 0;
  let end = start;
  do {
    if (bundle[end] === '{') depth += 1;
    if (bundle[end] === '}') depth -= 1;
    end += 1;
  } while (depth > 0);
  return parseStageConfig(bundle.slice(start, end));
}

/** decide-order, the one handler that reads the stage config (the others get what they need from the plan). */
const decideOrderBundle = (stage: string) => readFromZip(`${packaged[stage]!.directory}/decideOrder.zip`, 'handlers/decide-order.mjs');

/** Every Task state of a definition, also inside Map and Parallel states. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function taskStates(states: Record<string, any>): [string, any][] {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, unknown]] : []),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    ...(state.Branches ?? []).flatMap((branch: any) => taskStates(branch.States)),
    ...(state.ItemProcessor ?? state.Iterator ? taskStates((state.ItemProcessor ?? state.Iterator).States) : []),
  ]);
}

/** The state machine's three functions; notifyRun, pipelineEvent and sweeper are invoked by EventBridge only. */
const functionFiles = { DecideOrderLambdaFunction: 'decideOrder', StartPipelineLambdaFunction: 'startPipeline', CheckStatusLambdaFunction: 'checkStatus' };
/** completion: events: the rule's target and the sweeper, which the state machine never invokes. */
const eventFunctionFiles = { PipelineEventLambdaFunction: 'pipelineEvent', SweeperLambdaFunction: 'sweeper' };
const allFunctionFiles = { ...functionFiles, NotifyRunLambdaFunction: 'notifyRun', ...eventFunctionFiles };
const handlerFiles = {
  decideOrder: 'decide-order',
  startPipeline: 'start-pipeline',
  checkStatus: 'check-status',
  notifyRun: 'notify-run',
  pipelineEvent: 'pipeline-event',
  sweeper: 'sweeper',
};
const untaggableTypes = [
  'AWS::S3::BucketPolicy',
  'AWS::IAM::ManagedPolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::Scheduler::Schedule',
  'AWS::SQS::QueuePolicy',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventInvokeConfig',
];
const runbook = 'What to do: README.md, section Runbook (under Operating on AWS).';

describe.each(['dev', 'prod'])('sls package --stage %s', (stage) => {
  it('deploys every function on nodejs24.x, arm64, with short timeouts and source-mapped stack traces', () => {
    const functions = Object.fromEntries(resources(stage, 'AWS::Lambda::Function').map(([id, resource]) => [id, resource.Properties]));

    expect(Object.keys(functions).sort()).toEqual(Object.keys(allFunctionFiles).sort());
    for (const [id, properties] of Object.entries(functions)) {
      const key = allFunctionFiles[id as keyof typeof allFunctionFiles];
      const zip = `${packaged[stage]!.directory}/${key}.zip`;
      const bundle = readFromZip(zip, `handlers/${handlerFiles[key as keyof typeof handlerFiles]}.mjs`);
      const sourceMap = JSON.parse(readFromZip(zip, `handlers/${handlerFiles[key as keyof typeof handlerFiles]}.mjs.map`)) as { sources: string[] };

      expect(properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256 });
      expect(properties.Timeout).toBeLessThanOrEqual(30);
      expect(properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(bundle.trimEnd()).toMatch(/\/\/# sourceMappingURL=[\w-]+\.mjs\.map$/);
      expect(sourceMap.sources).toEqual(expect.arrayContaining([expect.stringMatching(/(^|\/)src\/[\w-]+\.ts$/), expect.stringMatching(/(^|\/)handlers\/[\w-]+\.ts$/)]));
    }
  });

  it("packages each function with its own code only: its file, the chunks it loads when a rare path needs them, and their source maps", () => {
    for (const [key, file] of Object.entries(handlerFiles)) {
      const names = [...zipEntries(`${packaged[stage]!.directory}/${key}.zip`).keys()];

      expect({ key, others: names.filter((name) => !name.startsWith(`handlers/${file}.`)) }).toEqual({ key, others: [] });
      expect(names).toContain(`handlers/${file}.mjs`);
    }
    // The Step Functions client (its protocol's namespace marks its code), out of the functions
    // that call it only on a rare path, in a chunk of its own that the function imports when it needs it.
    const stepFunctionsCode = '"com.amazonaws.sfn"';
    for (const key of ['decideOrder', 'startPipeline', 'checkStatus'] as const) {
      const zip = zipEntries(`${packaged[stage]!.directory}/${key}.zip`);
      const entry = zip.get(`handlers/${handlerFiles[key]}.mjs`)!();
      const chunks = [...zip.keys()].filter((name) => name.endsWith('.mjs') && zip.get(name)!().includes(stepFunctionsCode));

      expect({ key, chunks }).toEqual({ key, chunks: [expect.stringMatching(new RegExp(`^handlers/${handlerFiles[key]}\\.[\\w-]+\\.mjs$`))] });
      expect({ key, importsItLater: entry.includes(`import("./${chunks[0]!.slice('handlers/'.length)}")`) }).toEqual({ key, importsItLater: true });
    }
  });

  it('writes the stage config into the code, not into the 4 KB Lambda environment', () => {
    for (const [id, resource] of resources(stage, 'AWS::Lambda::Function')) {
      const key = allFunctionFiles[id as keyof typeof allFunctionFiles];
      const bundle = readFromZip(`${packaged[stage]!.directory}/${key}.zip`, `handlers/${handlerFiles[key as keyof typeof handlerFiles]}.mjs`);

      expect(resource.Properties.Environment.Variables.STAGE_CONFIG).toBeUndefined();
      expect(bundle).not.toContain('env.STAGE_CONFIG');
    }
    expect(bundledStageConfig(decideOrderBundle(stage))).toMatchObject({
      pipelines: ['P1', 'P2', 'P3'],
      defaultSequence: 'release',
      pollSeconds: stage === 'dev' ? 15 : 30,
    });
  });

  it('creates a Standard state machine named after the stage, whose Tasks outlast their functions by 10 s', () => {
    const [, machine] = only(stage, 'AWS::StepFunctions::StateMachine');
    const [definition, substitutions] = machine.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, { 'Fn::GetAtt': [string, string] }>];
    const lambdaTasks = taskStates(JSON.parse(definition).States).filter(([, state]) => /^\$\{\w+\}$/.test(state.Resource));

    expect(machine.Properties.StateMachineName).toBe(machineName(stage));
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
    expect(lambdaTasks.length).toBeGreaterThanOrEqual(3);
    for (const [name, state] of lambdaTasks) {
      const functionId = substitutions[state.Resource.slice(2, -1)]!['Fn::GetAtt'][0];
      expect({ name, TimeoutSeconds: state.TimeoutSeconds }).toEqual({ name, TimeoutSeconds: resource(stage, functionId).Properties.Timeout + 10 });
    }
  });

  it('logs the state machine at ERROR, without execution data, to a log group kept 30 days; tracing off', () => {
    const [, machine] = only(stage, 'AWS::StepFunctions::StateMachine');
    const logGroup = resource(stage, 'StateMachineLogGroup');

    expect(machine.Properties.LoggingConfiguration).toEqual({
      Level: 'ERROR',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'] } } }],
    });
    expect(logGroup.Properties).toMatchObject({ LogGroupName: `/aws/vendedlogs/states/${machineName(stage)}`, RetentionInDays: 30 });
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: false });
    for (const [, fn] of resources(stage, 'AWS::Lambda::Function')) expect(fn.Properties.TracingConfig).toBeUndefined();
  });

  it('tells its own topic, through the notifyRun function, when a run fails, times out or is stopped', () => {
    const ruleId = 'RunFailedNotificationRule';
    const rule = resource(stage, ruleId);
    const [target] = rule.Properties.Targets;
    const permission = resource(stage, `${ruleId}Permission`);
    const notifier = resource(stage, 'NotifyRunLambdaFunction').Properties;
    const [, topicPolicy] = only(stage, 'AWS::SNS::TopicPolicy');

    expect(only(stage, 'AWS::SNS::Topic')[0]).toBe('NotificationTopic');
    expect(resources(stage, 'AWS::SNS::Subscription')).toEqual([]);
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: machineId(stage) }] },
    });
    // Formatted in code: no input transformer pastes a JSON cause into the message.
    expect(target).toEqual({
      Id: 'notify-run',
      Arn: { 'Fn::GetAtt': ['NotifyRunLambdaFunction', 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } },
    });
    expect(permission.Properties).toEqual({
      FunctionName: { 'Fn::GetAtt': ['NotifyRunLambdaFunction', 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    expect(notifier.Environment.Variables).toMatchObject({ NOTIFICATION_TOPIC_ARN: { Ref: 'NotificationTopic' }, SERVICE_NAME: 'codepipeline-sequencer', STAGE_NAME: stage });
    expect(notifier.Role).toEqual({ 'Fn::GetAtt': ['NotifyRunRole', 'Arn'] });
    expect(topicPolicy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
    ]);
  });

  it('gives the notifier a role of its own: publish to the topic, read its executions, write its logs and dead letters', () => {
    const granted = statements(resource(stage, 'NotifyRunRole'));

    expect(granted).toEqual([
      { Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'NotificationTopic' } },
      { Effect: 'Allow', Action: ['states:DescribeExecution'], Resource: ownArn(stage, 'execution') },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${machineName(stage)}-notifyRun:*` },
      },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } },
    ]);
  });

  it('keeps what could not be delivered in a dead-letter queue, alarmed at the first message', () => {
    const [, queue] = only(stage, 'AWS::SQS::Queue');
    const [, queuePolicy] = only(stage, 'AWS::SQS::QueuePolicy');
    const invokeConfig = resource(stage, 'NotifyRunEventInvokeConfig');
    const alarm = resource(stage, 'DeliveryDeadLetterAlarm').Properties;

    expect(queue.Properties).toEqual(expect.objectContaining({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true }));
    expect(queuePolicy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': [{ 'Fn::GetAtt': ['RunFailedNotificationRule', 'Arn'] }, { 'Fn::GetAtt': ['PipelineEventRule', 'Arn'] }] } },
      }),
    ]);
    expect(invokeConfig.Properties).toEqual({
      FunctionName: { Ref: 'NotifyRunLambdaFunction' },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } } },
    });
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: 'NotificationTopic' }],
    });
    expect(alarm.AlarmDescription).toContain(runbook);
  });

  it('alarms to the topic on failed, timed-out and throttled executions, not on a deliberate stop, each pointing to the runbook', () => {
    const alarms = resources(stage, 'AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((alarm) => alarm.Namespace === 'AWS/States');

    expect(alarms.map((alarm) => alarm.MetricName).sort()).toEqual(['ExecutionThrottled', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Statistic: 'Sum',
        AlarmActions: [{ Ref: 'NotificationTopic' }],
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId(stage) } }],
      });
      expect(alarm.AlarmDescription).toContain(runbook);
    }
  });

  it('keeps its schedule off, in a time zone, with a bounded retry policy', () => {
    const schedule = resource(stage, 'SequencerSchedule');
    const role = resource(stage, schedule.Properties.Target.RoleArn['Fn::GetAtt'][0]);

    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { Ref: machineId(stage) },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } },
      },
    });
    // The schedule says it is the schedule, and how a busy start ends; Scheduler fills in the time.
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({ sequence: 'release', scheduled: { whenBusy: 'skip', at: '<aws.scheduler.scheduled-time>' } });
    expect(statements(role)).toEqual([
      { Effect: 'Allow', Action: ['states:StartExecution'], Resource: { Ref: machineId(stage) } },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } },
    ]);
  });

  it('grants no wildcard action anywhere', () => {
    const actions = [...resources(stage, 'AWS::IAM::Role').flatMap(([, role]) => statements(role)), ...resources(stage, 'AWS::IAM::ManagedPolicy').flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement)].flatMap(
      (statement: { Action: string | string[] }) => [statement.Action].flat(),
    );

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('lets the functions use only the CodePipeline actions they need, on the stage’s pipelines only, and read their own executions', () => {
    const role = resource(stage, 'IamRoleLambdaExecution');
    const functionsPolicies = resources(stage, 'AWS::IAM::ManagedPolicy').filter(([, policy]) => policy.Properties.Roles[0].Ref === 'IamRoleLambdaExecution');
    const [[, codePipeline]] = functionsPolicies as [[string, Resource]];
    const [grant] = codePipeline.Properties.PolicyDocument.Statement;

    expect(functionsPolicies).toHaveLength(1);
    expect(codePipeline.Properties.Roles).toEqual([{ Ref: 'IamRoleLambdaExecution' }]);
    expect([...grant.Action].sort()).toEqual([
      'codepipeline:GetPipeline',
      'codepipeline:GetPipelineExecution',
      'codepipeline:GetPipelineState',
      'codepipeline:ListActionExecutions',
      'codepipeline:ListPipelineExecutions',
      'codepipeline:StartPipelineExecution',
    ]);
    expect(grant.Resource).toEqual(['P1', 'P2', 'P3'].map((name) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:codepipeline:\${AWS::Region}:\${AWS::AccountId}:${name}` })));
    expect(statements(role).filter((statement) => statement.Action.some((action) => action.startsWith('codepipeline:')))).toEqual([]);
    expect(statements(role).filter((statement) => statement.Action.some((action) => action.startsWith('states:')))).toEqual([
      { Effect: 'Allow', Action: ['states:ListExecutions'], Resource: ownArn(stage, 'stateMachine') },
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory'], Resource: ownArn(stage, 'execution') },
    ]);
    // Watch items and the run lock: PutItem, GetItem, DeleteItem; UpdateItem marks a held member's
    // watch ended after a look saw its end (src/retry-hold.ts) and hands the lock over to a
    // continuation (src/run-lock.ts). Not Scan: that is the sweeper's.
    expect(statements(role).filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')))).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], Resource: completionTableArn(stage) },
    ]);
  });

  it('lets the state machine invoke only the three functions, start only itself, and deliver its logs', () => {
    const granted = statements(resource(stage, 'StateMachineRole'));
    const invoke = granted.filter((statement) => statement.Action.includes('lambda:InvokeFunction'));
    const start = granted.filter((statement) => statement.Action.some((action) => action.startsWith('states:')));
    const table = granted.filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
    const others = granted.filter((statement) => !invoke.includes(statement) && !start.includes(statement) && !table.includes(statement));

    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Action).toEqual(['lambda:InvokeFunction']);
    expect([...new Set(JSON.stringify(invoke).match(/[A-Za-z]+LambdaFunction/g))].sort()).toEqual(Object.keys(functionFiles).sort());
    expect(start).toEqual([{ Effect: 'Allow', Action: ['states:StartExecution'], Resource: ownArn(stage, 'stateMachine') }]);
    expect(others.flatMap((statement) => statement.Action).every((action) => action.startsWith('logs:'))).toBe(true);
    // completion: events: the callback Task stores its token in the stage's table, and does nothing else there.
    expect(table).toEqual([{ Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: completionTableArn(stage) }]);
  });

  it('completion: events: an on-demand table with TTL, the stage’s pipelines’ ends to the event function with a dead-letter queue and an alarm, a sweep every minute', () => {
    const table = resource(stage, 'CompletionTable').Properties;
    const rule = resource(stage, 'PipelineEventRule').Properties;
    const [target] = rule.Targets;
    const sweep = resource(stage, 'SweeperSchedule').Properties;
    const alarm = resource(stage, 'PipelineEventDeliveryAlarm').Properties;

    expect(table).toMatchObject({ TableName: `codepipeline-sequencer-${stage}-completion`, BillingMode: 'PAY_PER_REQUEST', TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
    expect(rule.EventPattern).toEqual({
      source: ['aws.codepipeline'],
      'detail-type': ['CodePipeline Pipeline Execution State Change'],
      detail: { pipeline: ['P1', 'P2', 'P3'], state: ['SUCCEEDED', 'FAILED', 'STOPPED', 'SUPERSEDED', 'CANCELED', 'RESUMED'] },
    });
    expect(target).toMatchObject({ Arn: { 'Fn::GetAtt': ['PipelineEventLambdaFunction', 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } } });
    expect(alarm).toMatchObject({ Namespace: 'AWS/Events', MetricName: 'FailedInvocations', Dimensions: [{ Name: 'RuleName', Value: { Ref: 'PipelineEventRule' } }], AlarmActions: [{ Ref: 'NotificationTopic' }] });
    expect(sweep).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED', Target: { Arn: { 'Fn::GetAtt': ['SweeperLambdaFunction', 'Arn'] } } });
    expect(resource(stage, 'PipelineEventPermission').Properties).toMatchObject({ Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': ['PipelineEventRule', 'Arn'] } });
  });

  it('completion: events: an invocation of the event function or the sweeper that fails is kept in the dead-letter queue, not dropped by Lambda', () => {
    // EventBridge and Scheduler invoke them asynchronously: once Lambda took the event, the rule's
    // dead-letter queue never sees the function fail. Lambda's own failure destination does.
    const invokeConfigs = Object.fromEntries(resources(stage, 'AWS::Lambda::EventInvokeConfig').map(([, config]) => [config.Properties.FunctionName.Ref, config.Properties]));
    const toQueue = { OnFailure: { Destination: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } } };

    expect(invokeConfigs.PipelineEventLambdaFunction).toEqual({ FunctionName: { Ref: 'PipelineEventLambdaFunction' }, Qualifier: '$LATEST', MaximumRetryAttempts: 2, DestinationConfig: toQueue });
    // A sweep is not retried: the next one comes within sweepSeconds.
    expect(invokeConfigs.SweeperLambdaFunction).toEqual({
      FunctionName: { Ref: 'SweeperLambdaFunction' },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: toQueue,
    });
  });

  it('completion: events: the event function and the sweeper each have their own role, scoped to the table, task tokens and (the sweeper) reading executions', () => {
    const granted = (roleId: string) => statements(resource(stage, roleId)).filter((statement) => !statement.Action.every((action) => action.startsWith('logs:')));
    const meet = [
      // Never DeleteItem: with it, either function could delete the stage's run lock.
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: completionTableArn(stage) },
      { Effect: 'Allow', Action: ['states:SendTaskSuccess'], Resource: '*' },
    ];

    expect(resource(stage, 'PipelineEventLambdaFunction').Properties.Role).toEqual({ 'Fn::GetAtt': ['PipelineEventRole', 'Arn'] });
    expect(resource(stage, 'SweeperLambdaFunction').Properties.Role).toEqual({ 'Fn::GetAtt': ['SweeperRole', 'Arn'] });
    // Lambda sends an invocation it drops to the dead-letter queue with the function's own role.
    const deadLetter = { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] } };
    expect(granted('PipelineEventRole')).toEqual([...meet, deadLetter]);
    // DescribeExecution: whether the run of a watch it cannot read has ended; this stage's runs only.
    const readRuns = {
      Effect: 'Allow',
      Action: ['states:DescribeExecution'],
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:codepipeline-sequencer-${stage}:*` },
    };
    expect(granted('SweeperRole')).toEqual([...meet, { Effect: 'Allow', Action: ['dynamodb:Scan'], Resource: completionTableArn(stage) }, readRuns, deadLetter]);
    const [, sweeperPolicy] = resources(stage, 'AWS::IAM::ManagedPolicy').find(([, policy]) => policy.Properties.Roles[0].Ref === 'SweeperRole')!;
    expect(sweeperPolicy.Properties.PolicyDocument.Statement).toEqual([
      // GetPipelineState and ListActionExecutions: whether an execution held for a retry can still be retried.
      {
        Effect: 'Allow',
        Action: ['codepipeline:GetPipelineExecution', 'codepipeline:GetPipelineState', 'codepipeline:ListActionExecutions'],
        Resource: ['P1', 'P2', 'P3'].map((name) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:codepipeline:\${AWS::Region}:\${AWS::AccountId}:${name}` })),
      },
    ]);
  });

  it('tags every resource that takes tags with the service and the stage', () => {
    for (const [id, found] of Object.entries(packaged[stage]!.template.Resources)) {
      if (untaggableTypes.includes(found.Type)) continue;
      expect({ id, tags: found.Properties.Tags }).toEqual({
        id,
        tags: expect.arrayContaining([
          { Key: 'service', Value: 'codepipeline-sequencer' },
          { Key: 'stage', Value: stage },
        ]),
      });
    }
  });

  it(`keeps the state machine and its log group when the stack goes only where the stage says so`, () => {
    const [, machine] = only(stage, 'AWS::StepFunctions::StateMachine');
    const logGroup = resource(stage, 'StateMachineLogGroup');
    const retained = stage === 'prod' ? 'Retain' : undefined;

    expect([machine.DeletionPolicy, machine.UpdateReplacePolicy]).toEqual([retained, retained]);
    expect([logGroup.DeletionPolicy, logGroup.UpdateReplacePolicy]).toEqual([retained, retained]);
  });
});

describe('cfn-lint', () => {
  it('finds nothing in the dev, prod and largest stages’ templates', async () => {
    const files = ['dev', 'prod', scaleStage].map((stage) => packaged[stage]!.file);

    const findings = await lintTogether(files);

    expect(files.map((file) => findings[file])).toEqual([[], [], []]);
  });
});

describe('every AWS call a function makes locally, its role allows', () => {
  // Nothing enforces IAM locally: an action a role lacks would first fail on AWS. The local engine
  // records each function's calls, whatever the client (local/sdk-clients.ts); these trains take every
  // path a function reaches AWS by: the lock, watches, woken waits, a held member's retry, the
  // sweeper alone, a redrive, a polled run with its single-flight check, forwarded variables and
  // a lock taken over. Pipelines in other accounts: accounts-template.test.ts, whose stage has them.
  it('for each of the five functions', async () => {
    const { LocalEngine, closeLocalEngine } = await import('../../local/engine.js');
    const { awsCallsByFunction } = await import('../../local/sdk-clients.js');
    const { loadWorld, parseWorld } = await import('../../local/world.js');
    const world = (pipelines: Record<string, unknown>[], extra: Record<string, unknown> = {}) => parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines, ...extra }, 'IAM world');
    const retried = { name: 'P2', durationSeconds: 300, outcome: 'Failed', retry: { afterSeconds: 600, durationSeconds: 120 } };
    try {
      await (await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 300 }, retried]) })).run({ input: { order: ['P1', 'P2'], onFailure: 'wait' } });
      await (await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 300 }], { events: { off: true } }) })).run({ input: { order: ['P1'] } });
      await (await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 300, outcomes: ['Failed', 'Succeeded'] }]) })).run({ input: { order: ['P1'] }, redrive: true });
      await (await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 300 }]), settings: { completion: 'poll' } })).run({ input: { order: ['P1'] } });
      // A start whose answer was lost on every try: the redrive reads the history (GetExecutionHistory) to find it.
      const crashedStarts = world([{ name: 'P1', durationSeconds: 300 }], { faults: [{ handler: 'start-pipeline', crash: 'afterCall', count: 4 }] });
      await (await LocalEngine.create({ world: crashedStarts })).run({ input: { order: ['P1'] }, redrive: true });
      // A later pipeline's variables forwarded from an earlier one's outputs (ListActionExecutions).
      const forwarded = { P2: { IMAGE_TAG: '#{P1.BuildVariables.IMAGE_TAG}' } };
      await (await LocalEngine.create({ world: await loadWorld('local/worlds/forwarding.json') })).run({ input: { order: ['P1', 'P2'], variables: forwarded } });
      // A train stopped mid-way keeps the run lock: the next run asks Step Functions about its holder and takes it over.
      const engine = await LocalEngine.create({ world: world([{ name: 'P1', durationSeconds: 300 }]) });
      const stop = new AbortController();
      await engine.run({ input: { order: ['P1'] }, signal: stop.signal, onEvent: (event) => event.type === 'started' && stop.abort() });
      await expect(engine.run({ input: { order: ['P1'] } })).resolves.toMatchObject({ status: 'SUCCEEDED' });
    } finally {
      await closeLocalEngine();
    }

    const stage = 'dev';
    const unallowed = Object.entries(roleOfFunction).map(([functionKey, roleId]) => {
      const allowed = actionsAllowed(packaged[stage]!.template, roleId);
      const called = [...(awsCallsByFunction.get(functionKey) ?? [])];
      return { functionKey, called: called.length, unallowed: called.filter((action) => !allowed.has(action)) };
    });
    expect(unallowed.filter((entry) => entry.called === 0)).toEqual([]);
    expect(unallowed.filter((entry) => entry.unallowed.length > 0)).toEqual([]);
    // Every client is recorded, not the completion table's alone.
    expect([...awsCallsByFunction.values()].flatMap((calls) => [...calls].map((action) => action.split(':')[0])).sort()).toEqual(expect.arrayContaining(['codepipeline', 'dynamodb', 'states']));
    expect([...awsCallsByFunction.get('checkStatus')!]).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'codepipeline:GetPipelineExecution']));
    expect([...awsCallsByFunction.get('decideOrder')!]).toEqual(expect.arrayContaining(['states:ListExecutions', 'states:DescribeExecution', 'dynamodb:GetItem']));
    expect([...awsCallsByFunction.get('startPipeline')!]).toEqual(expect.arrayContaining(['codepipeline:ListActionExecutions', 'states:GetExecutionHistory']));
  });
});

describe('a stage of 100 pipelines of 100 characters, with every extra turned on', () => {
  const stage = scaleStage;
  // IAM counts the resolved policy without whitespace; the longest partition bounds every other.
  const resolvedLength = (document: unknown) =>
    JSON.stringify(document)
      .replace(/\{"Fn::Sub":"([^"]*)"\}/g, '"$1"')
      .replaceAll('${AWS::Partition}', 'aws-us-gov')
      .replaceAll('${AWS::Region}', 'us-east-1')
      .replaceAll('${AWS::AccountId}', '123456789012').length;

  it('packages, with the whole stage config in each bundle and a small Lambda environment', () => {
    expect(bundledStageConfig(decideOrderBundle(stage))).toMatchObject({ pipelines: scalePipelines, sequences: scaleParams.sequences });
    for (const [, resource] of resources(stage, 'AWS::Lambda::Function')) {
      const variables = Object.entries(resource.Properties.Environment.Variables as Record<string, string>);

      expect(variables.reduce((size, [name, value]) => size + name.length + value.length, 0)).toBeLessThan(4096);
    }
  });

  it('splits the CodePipeline grants into managed policies within IAM’s sizes, covering each pipeline once', () => {
    const all = resources(stage, 'AWS::IAM::ManagedPolicy').map(([, policy]) => policy.Properties);
    for (const policy of all) expect(resolvedLength(policy.PolicyDocument)).toBeLessThanOrEqual(6144);
    // The functions' grants; the sweeper's (GetPipelineExecution alone) are split the same way.
    const policies = all.filter((policy) => policy.Roles[0].Ref === 'IamRoleLambdaExecution');
    const granted = policies.flatMap((policy) => policy.PolicyDocument.Statement[0].Resource.map((arn: { 'Fn::Sub': string }) => arn['Fn::Sub'].split(':').pop()));

    expect(policies.length).toBeGreaterThan(1);
    expect(policies.length).toBeLessThanOrEqual(10);
    expect(granted).toEqual(scalePipelines);
    for (const policy of policies) expect(resolvedLength(policy.PolicyDocument)).toBeLessThanOrEqual(6144);
    for (const [, role] of resources(stage, 'AWS::IAM::Role')) {
      expect(resolvedLength(role.Properties.Policies.map((policy: { PolicyDocument: unknown }) => policy.PolicyDocument))).toBeLessThanOrEqual(10240);
    }
  });

  it('keeps every name within its limit', () => {
    for (const [, fn] of resources(stage, 'AWS::Lambda::Function')) expect(fn.Properties.FunctionName.length).toBeLessThanOrEqual(64);
    expect(resource(stage, 'IamRoleLambdaExecution').Properties.RoleName).toBe(`codepipeline-sequencer-${scaleStage}-us-east-1`);
    expect(only(stage, 'AWS::StepFunctions::StateMachine')[1].Properties.StateMachineName.length).toBeLessThanOrEqual(80);
  });

  it('uses the given topic, subscribes the e-mail, tells of successes too, and traces', () => {
    const rules = resources(stage, 'AWS::Events::Rule')
      .map(([, rule]) => rule.Properties)
      .filter((rule) => rule.EventPattern.source[0] === 'aws.states');
    const [, subscription] = only(stage, 'AWS::SNS::Subscription');
    const [, machine] = only(stage, 'AWS::StepFunctions::StateMachine');

    expect(resources(stage, 'AWS::SNS::Topic')).toEqual([]);
    expect(resources(stage, 'AWS::SNS::TopicPolicy')).toEqual([]);
    expect(subscription.Properties).toEqual({ TopicArn: existingTopic, Protocol: 'email', Endpoint: 'team@example.com' });
    expect(rules.map((rule) => rule.EventPattern.detail.status)).toEqual(expect.arrayContaining([['FAILED', 'TIMED_OUT', 'ABORTED'], ['SUCCEEDED']]));
    for (const rule of rules) expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['NotifyRunLambdaFunction', 'Arn'] });
    const notifierPermissions = resources(stage, 'AWS::Lambda::Permission').filter(([, permission]) => permission.Properties.FunctionName['Fn::GetAtt']?.[0] === 'NotifyRunLambdaFunction');
    expect(notifierPermissions).toHaveLength(2);
    expect(resource(stage, 'NotifyRunLambdaFunction').Properties.Environment.Variables.NOTIFICATION_TOPIC_ARN).toBe(existingTopic);
    expect(statements(resource(stage, 'NotifyRunRole'))[0]).toEqual({ Effect: 'Allow', Action: ['sns:Publish'], Resource: existingTopic });
    for (const [, alarm] of resources(stage, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toEqual([existingTopic]);
    expect(machine.Properties.LoggingConfiguration.Level).toBe('ALL');
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    for (const [, fn] of resources(stage, 'AWS::Lambda::Function')) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    // Lambda refuses an Active function whose role cannot send traces: every function's own role can.
    for (const roleId of ['NotifyRunRole', 'PipelineEventRole', 'SweeperRole']) {
      expect({ roleId, traces: statements(resource(stage, roleId)).some((granted) => granted.Action.includes('xray:PutTraceSegments')) }).toEqual({ roleId, traces: true });
    }
  });

  it('turns its schedule on, in its own time zone, once its pipelines are its own', () => {
    const schedule = resource(stage, 'SequencerSchedule');

    expect(schedule.Properties).toMatchObject({ State: 'ENABLED', ScheduleExpressionTimezone: 'Europe/Paris' });
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({ sequence: 'sequence3', scheduled: { whenBusy: 'skip', at: '<aws.scheduler.scheduled-time>' } });
  });
});

describe('stages sls package refuses', () => {
  it('refuses a schedule that would run the example pipelines, saying what to set', () => {
    expect(refusals[examplesStage]).toContain(`stage '${examplesStage}' turns its schedule on (scheduleEnabled: true) but still allows the example pipelines P1, P2, P3`);
    expect(refusals[examplesStage]).toContain(`set params.${examplesStage}.pipelines`);
  });

  it('refuses prod as serverless.yml ships it, whose pipelines are still the examples P1 to P3', () => {
    expect(refusals.prod).toContain(
      "stage 'prod' takes its pipelines from params.default, which holds the example pipelines P1, P2, P3: give the stage its own pipelines and sequences, or set params.prod.allowExamplePipelines: true",
    );
  });

  it('refuses every param AWS would refuse at deploy time or on each scheduled run, one line each', () => {
    for (const line of [
      `- params.${badParamsStage}.notifyOnSuccess is "true": must be true or false (a YAML boolean, not a string)`,
      `- params.${badParamsStage}.scheduleRate is "rate(every day)": must be rate(value unit), cron(`,
      `- params.${badParamsStage}.scheduleTimezone is "Mars/Olympus": must be an IANA time zone name`,
      `- params.${badParamsStage}.scheduleRetryAttempts is 500: must be a whole number from 0 to 185`,
      `- params.${badParamsStage}.scheduleMaxEventAgeSeconds is 30: must be a whole number from 60 to 86400`,
      `- params.${badParamsStage}.scheduleInput is {"sequence":"nope","typo":1}: unknown field "typo"`,
    ]) {
      expect(refusals[badParamsStage]).toContain(line);
    }
  });

  it('refuses a completion it does not know and a sweep that is not whole minutes, each in one line', () => {
    expect(refusals[badCompletionStage]).toContain(`- params.${badCompletionStage}.completion is "event": must be 'events' or 'poll'`);
    expect(refusals[badCompletionStage]).toContain(
      `- params.${badCompletionStage}.sweepSeconds is 90: must be a multiple of 60 from 60 to 3600: the sweeper runs on a rate in whole minutes`,
    );
  });

  it('says each refusal in its own lines, without a stack trace after them', () => {
    for (const stage of ['prod', examplesStage, badParamsStage, badCompletionStage, tooLongStage]) {
      expect({ stage, frames: refusals[stage]!.match(/^\s+at /gm) ?? [] }).toEqual({ stage, frames: [] });
    }
  });

  it('refuses a stage name that overflows a name limit, naming the limit', () => {
    expect(refusals[tooLongStage]).toContain(
      `the Lambda function name 'codepipeline-sequencer-${tooLongStage}-startPipeline' has 66 characters; AWS allows 64 (a stage name of at most 27 characters fits)`,
    );
  });
});

describe("the README's deploy steps", () => {
  it('name the stack output that holds the state machine ARN, as sls info --verbose shows it', () => {
    const readme = readFileSync('README.md', 'utf8');
    const outputs = (packaged.prod!.template as unknown as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    const named = /Stack Outputs: (\w+) is the state machine ARN/.exec(readme)?.[1];

    expect(named).toBe('CodepipelineDashsequencerDashprodArn');
    expect(outputs[named!]?.Value).toEqual({ Ref: machineId('prod') });
    // The Runbook's commands name these outputs.
    expect(outputs.NotificationTopicArn?.Value).toEqual({ Ref: 'NotificationTopic' });
    expect(outputs.DeliveryDeadLetterQueueUrl?.Value).toEqual({ Ref: 'DeliveryDeadLetterQueue' });
    expect(readme).toContain('--topic-arn <NotificationTopicArn>');
    expect(readme).toContain('--queue-url <DeliveryDeadLetterQueueUrl>');
    expect(readme).toMatch(/npx --no sls remove --stage prod/);
  });
});
