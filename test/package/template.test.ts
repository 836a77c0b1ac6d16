import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parseStageConfig } from '../../src/config.js';

/**
 * What `sls package` writes, checked the way serverless-step-functions checks its own
 * fixtures: the template is what CloudFormation will deploy. Packaging runs offline.
 */
const run = promisify(execFile);
// CloudFormation properties are free-form JSON; the assertions say what shape they expect.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Resource = { Type: string; Properties: Record<string, any> };
type Template = { Resources: Record<string, Resource> };
const templates: Record<string, Template> = {};
const stages = ['dev', 'prod'] as const;

beforeAll(async () => {
  // One after the other: serverless-esbuild builds in one shared .esbuild folder, and two
  // packages at once can wait on each other forever.
  for (const stage of stages) {
    const directory = `.serverless-${stage}`;
    await run('npx', ['sls', 'package', '--stage', stage, '--package', directory], { env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' } });
    templates[stage] = JSON.parse(readFileSync(`${directory}/cloudformation-template-update-stack.json`, 'utf8')) as Template;
  }
}, 180_000);

const resources = (stage: string, type: string) =>
  Object.entries(templates[stage]!.Resources).filter(([, resource]) => resource.Type === type);
const only = (stage: string, type: string) => {
  const found = resources(stage, type);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const statements = (role: Resource) =>
  role.Properties.Policies.flatMap((policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement);

describe.each(stages)('sls package --stage %s', (stage) => {
  it('deploys the three functions on nodejs24.x, arm64, with short timeouts', () => {
    const functions = Object.fromEntries(resources(stage, 'AWS::Lambda::Function').map(([id, resource]) => [id, resource.Properties]));

    expect(Object.keys(functions).sort()).toEqual(['CheckStatusLambdaFunction', 'DecideOrderLambdaFunction', 'StartPipelineLambdaFunction']);
    for (const properties of Object.values(functions)) {
      expect(properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256 });
      expect(properties.Timeout).toBeLessThanOrEqual(30);
      expect(properties.Handler).toMatch(/^handlers\/(decide-order|start-pipeline|check-status)\.handler$/);
    }
  });

  it('hands every function a valid STAGE_CONFIG built from the stage params', () => {
    for (const [, resource] of resources(stage, 'AWS::Lambda::Function')) {
      const config = parseStageConfig(resource.Properties.Environment.Variables.STAGE_CONFIG);
      expect(config).toMatchObject({ pipelines: ['P1', 'P2', 'P3'], defaultSequence: 'release', pollSeconds: stage === 'dev' ? 15 : 30 });
    }
  });

  it('creates a Standard state machine named after the stage, calling only our functions, with task timeouts', () => {
    const [id, machine] = only(stage, 'AWS::StepFunctions::StateMachine');
    const [definition, substitutions] = machine.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
    const asl = JSON.parse(definition);

    expect(machine.Properties.StateMachineName).toBe(`codepipeline-sequencer-${stage}`);
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    expect(id).toBeTruthy();
    expect(Object.values(substitutions).map((value) => JSON.stringify(value)).sort()).toEqual([
      JSON.stringify({ 'Fn::GetAtt': ['CheckStatusLambdaFunction', 'Arn'] }),
      JSON.stringify({ 'Fn::GetAtt': ['DecideOrderLambdaFunction', 'Arn'] }),
      JSON.stringify({ 'Fn::GetAtt': ['StartPipelineLambdaFunction', 'Arn'] }),
    ]);
    expect(asl.States.DecideOrder.TimeoutSeconds).toBe(30);
    expect(asl.States.StartNextPipeline.TimeoutSeconds).toBe(20);
    expect(asl.States.CheckPipelineStatus.TimeoutSeconds).toBe(20);
  });

  it('schedules a run with the stage input, enabled only where the stage says so', () => {
    const [, rule] = only(stage, 'AWS::Events::Rule');

    expect(rule.Properties.ScheduleExpression).toBe('cron(0 6 ? * MON-FRI *)');
    expect(rule.Properties.State).toBe(stage === 'prod' ? 'ENABLED' : 'DISABLED');
    expect(JSON.parse(rule.Properties.Targets[0].Input)).toEqual({ sequence: 'release' });
  });

  it('grants no wildcard action anywhere', () => {
    const actions = resources(stage, 'AWS::IAM::Role').flatMap(([, role]) =>
      statements(role).flatMap((statement: { Action: string | string[] }) => [statement.Action].flat()),
    );

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('lets the functions call only the CodePipeline actions they use, on the stage’s pipelines only', () => {
    const role = templates[stage]!.Resources.IamRoleLambdaExecution!;
    const codePipeline = statements(role).filter((statement: { Action: string[] }) => statement.Action.some((action) => action.startsWith('codepipeline:')));
    const stepFunctions = statements(role).filter((statement: { Action: string[] }) => statement.Action.some((action) => action.startsWith('states:')));

    expect(codePipeline).toHaveLength(1);
    expect([...codePipeline[0].Action].sort()).toEqual([
      'codepipeline:GetPipeline',
      'codepipeline:GetPipelineExecution',
      'codepipeline:ListPipelineExecutions',
      'codepipeline:StartPipelineExecution',
    ]);
    expect(codePipeline[0].Resource).toEqual(
      ['P1', 'P2', 'P3'].map((name) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:codepipeline:\${AWS::Region}:\${AWS::AccountId}:${name}` })),
    );
    expect(stepFunctions).toEqual([
      {
        Effect: 'Allow',
        Action: ['states:ListExecutions'],
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:codepipeline-sequencer-${stage}`,
        },
      },
    ]);
  });

  it('lets the state machine invoke only the three functions', () => {
    const machineRoles = resources(stage, 'AWS::IAM::Role').filter(([, role]) =>
      statements(role).some((statement: { Action: string[] }) => statement.Action.includes('lambda:InvokeFunction')),
    );
    expect(machineRoles).toHaveLength(1);
    const granted = statements(machineRoles[0]![1]);

    expect(granted.flatMap((statement: { Action: string[] }) => statement.Action)).toEqual(['lambda:InvokeFunction']);
    const targets = new Set(JSON.stringify(granted).match(/[A-Za-z]+LambdaFunction/g));
    expect([...targets].sort()).toEqual(['CheckStatusLambdaFunction', 'DecideOrderLambdaFunction', 'StartPipelineLambdaFunction']);
  });
});
