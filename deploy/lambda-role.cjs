'use strict';
// A role of one function of the stack's own (the notifier, the event function, the sweeper):
// trusted by Lambda, allowed to write its own log group and, with tracing on, to send traces
// (a function whose TracingConfig is Active cannot be created without that), plus the caller's
// policies. Serverless' shared role covers only the state machine's three functions.

const policy = (name, statements) => ({ PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: statements } });

/** Its log group: `/aws/lambda/<service>-<stage>-<function key>`, as Serverless names it. */
const writeLogs = (s, functionName) =>
  policy('write-logs', [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${s.service}-${s.stage}-${functionName}:*` },
    },
  ]);

/** Reads the runs of the stage's state machine (DescribeExecution): its executions, no other. */
const readRuns = (s) =>
  policy('read-runs', [
    {
      Effect: 'Allow',
      Action: ['states:DescribeExecution'],
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${s.stateMachineName}:*` },
    },
  ]);

const sendTraces = (s) =>
  s.params.tracing === true ? [policy('send-traces', [{ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' }])] : [];

/** `policies` in the order given (writeLogs among them where the caller wants it), then the traces grant. */
function lambdaRole(s, policies) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [...policies, ...sendTraces(s)],
    },
  };
}

module.exports = { lambdaRole, policy, readRuns, writeLogs };
