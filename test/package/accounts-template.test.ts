import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { lintTogether, type Finding } from '../support/cfn-lint.js';
import { actionsAllowed, roleOfFunction } from '../support/iam.js';
import { copyOfService, slsPackage, slsRefusal, type Packaged } from '../support/sls.js';

/**
 * The hub's template for a stage whose pipelines live in three other accounts and two regions,
 * at the scale the config accepts (100 pipelines of 100 characters), and the target-account
 * template: both pass cfn-lint, and their IAM is least privilege. Packaged in a copy of the
 * service, so this file never shares serverless-esbuild's build folder with template.test.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Resource = { Type: string; Properties: Record<string, any>; Condition?: string };
type Template = { Resources: Record<string, Resource> };

const accounts = ['222233334444', '333344445555', '444455556666'];
const regions = ['eu-west-1', 'us-east-1'];
const roleArn = (accountId: string) => `arn:aws:iam::${accountId}:role/pipeline-sequencer-target`;
const name = (prefix: string, index: number) => `${prefix}-${String(index).padStart(3, '0')}-`.padEnd(100, 'x');
const localPipelines = Array.from({ length: 40 }, (_, index) => name('local', index));
const remotePipelines = Array.from({ length: 60 }, (_, index) => {
  const accountId = accounts[index % 3]!;
  const region = regions[index % 2]!;
  // The same CodePipeline name in each account: the stage's names tell them apart.
  return { name: name('remote', index), arn: `arn:aws:codepipeline:${region}:${accountId}:${name('deploy', Math.floor(index / 3))}` };
});
const stageParams = {
  pipelines: [...localPipelines, ...remotePipelines],
  accounts: Object.fromEntries(accounts.map((accountId) => [accountId, { roleArn: roleArn(accountId) }])),
  sequences: Object.fromEntries(
    Array.from({ length: 10 }, (_, index) => [`sequence${index}`, [...localPipelines.slice(index * 4, index * 4 + 4), ...remotePipelines.slice(index * 6, index * 6 + 6).map((entry) => entry.name)]]),
  ),
  defaultSequence: 'sequence0',
  // The default params' schedule sends `sequence: release`, which this stage does not have.
  scheduleInput: { sequence: 'sequence0' },
};
const orgStageParams = { ...stageParams, targetOrganizationId: 'o-a1b2c3d4e5' };
const unreachableStageParams = { ...stageParams, accounts: { [accounts[0]!]: { roleArn: roleArn(accounts[0]!) } } };

const { targetResources } = createRequire(import.meta.url)('../../deploy/targets.cjs') as {
  targetResources: (accounts: object, organizationId: string | undefined, stackName: string) => Record<string, Resource>;
};

const service = copyOfService();
const templates: Record<string, Packaged<Template>> = {};
let refusal = '';

beforeAll(async () => {
  const config = parse(readFileSync('serverless.yml', 'utf8')) as { params: Record<string, unknown> };
  config.params.targets = stageParams;
  config.params['targets-org'] = orgStageParams;
  config.params.unreachable = unreachableStageParams;
  writeFileSync(join(service, 'serverless.yml'), stringify(config));
  // The packages one after the other: serverless-esbuild builds in one folder of the service. The
  // refusal, in a copy of that copy, beside them.
  const builds = async () => {
    templates.targets = await slsPackage('targets', { cwd: service });
    templates['targets-org'] = await slsPackage('targets-org', { cwd: service });
  };
  const refused = async () => {
    refusal = await slsRefusal('unreachable', { cwd: service });
  };
  const outcomes = await Promise.allSettled([builds(), refused()]);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}, 300_000);

afterAll(() => rmSync(service, { recursive: true, force: true }));

const targetAccountTemplate = 'deploy/target-account.yml';
let linted: Promise<Record<string, Finding[]>> | undefined;

/**
 * What cfn-lint finds in one template (each finding names its file). One run lints the three
 * templates: starting Python and cfn-lint is most of a run (one template took 3.3 s of CPU
 * here, all three in one run 4.4 s).
 */
async function cfnLintFindings(template: string): Promise<Finding[]> {
  linted ??= lintTogether([templates.targets!.file, templates['targets-org']!.file, targetAccountTemplate]);
  return (await linted)[template]!;
}

const ofType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown };
/** Every IAM statement of the template: roles' inline policies and managed policies. */
function iamStatements(template: Template): Statement[] {
  return Object.values(template.Resources).flatMap((resource) => {
    if (resource.Type === 'AWS::IAM::ManagedPolicy') return resource.Properties.PolicyDocument.Statement as Statement[];
    if (resource.Type === 'AWS::IAM::Role') {
      return (resource.Properties.Policies ?? []).flatMap((policy: { PolicyDocument: { Statement: Statement[] } }) => policy.PolicyDocument.Statement);
    }
    return [];
  });
}
const actionsOf = (statement: Statement) => [statement.Action].flat();

describe('the hub: a stage of 100 pipelines of 100 characters, 60 of them in 3 other accounts and 2 regions', () => {
  it('passes cfn-lint', async () => {
    expect(await cfnLintFindings(templates.targets!.file)).toEqual([]);
    expect(await cfnLintFindings(templates['targets-org']!.file)).toEqual([]);
  }, 120_000);

  it('grants CodePipeline access to the local pipelines only, never to a pipeline in another account', () => {
    // The functions' grants, and the sweeper's (it starts nothing): each the local pipelines, once.
    const granted = (sweeper: boolean) =>
      iamStatements(templates.targets!.template)
        .filter((statement) => actionsOf(statement).some((action) => action.startsWith('codepipeline:')))
        .filter((statement) => !actionsOf(statement).includes('codepipeline:StartPipelineExecution') === sweeper)
        .flatMap((statement) => (statement.Resource as { 'Fn::Sub': string }[]).map((arn) => arn['Fn::Sub']));

    for (const sweeper of [false, true]) {
      expect(granted(sweeper).map((arn) => arn.split(':').pop())).toEqual(localPipelines);
      expect(granted(sweeper).every((arn) => arn.startsWith('arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:'))).toBe(true);
    }
  });

  it('lets the functions assume exactly the configured roles, and uses no wildcard action anywhere', () => {
    const statements = iamStatements(templates.targets!.template);
    const assume = statements.filter((statement) => actionsOf(statement).includes('sts:AssumeRole') && statement.Principal === undefined);

    expect(assume).toEqual([{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: accounts.map(roleArn) }]);
    expect(statements.flatMap(actionsOf).filter((action) => action.includes('*'))).toEqual([]);
  });

  it('lets the sweeper assume exactly the configured roles too (an account may forward no events), and the event function none', () => {
    const { template } = templates.targets!;
    const assumers = ofType(template, 'AWS::IAM::ManagedPolicy')
      .filter(([, policy]) => (policy.Properties.PolicyDocument.Statement as Statement[]).some((statement) => actionsOf(statement).includes('sts:AssumeRole')))
      .map(([, policy]) => ({ roles: policy.Properties.Roles, statements: policy.Properties.PolicyDocument.Statement }));
    const inlineAssume = (roleId: string) =>
      (template.Resources[roleId]!.Properties.Policies ?? []).flatMap((policy: { PolicyDocument: { Statement: Statement[] } }) => policy.PolicyDocument.Statement).filter((statement: Statement) => actionsOf(statement).includes('sts:AssumeRole'));

    expect(assumers).toEqual([
      { roles: [{ Ref: 'IamRoleLambdaExecution' }, { Ref: 'SweeperRole' }], statements: [{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: accounts.map(roleArn) }] },
    ]);
    expect([...inlineAssume('SweeperRole'), ...inlineAssume('PipelineEventRole')]).toEqual([]);
  });

  it("outputs HubRoleArns, the target template's parameter: the ARN of every role that assumes a target account's role, and the README's command reads it", () => {
    const { template } = templates.targets!;
    const [assumer] = ofType(template, 'AWS::IAM::ManagedPolicy').filter(([, policy]) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).some((statement) => actionsOf(statement).includes('sts:AssumeRole')),
    );
    const { Outputs } = template as Template & { Outputs: Record<string, { Value: { 'Fn::Join': [string, { 'Fn::GetAtt': [string, string] }[]] } }> };
    const [separator, parts] = Outputs.HubRoleArns!.Value['Fn::Join'];

    expect(separator).toBe(',');
    expect(parts.map((part) => part['Fn::GetAtt'])).toEqual(assumer![1].Properties.Roles.map(({ Ref }: { Ref: string }) => [Ref, 'Arn']));
    expect(readFileSync('README.md', 'utf8')).toContain("--query \"Stacks[0].Outputs[?OutputKey=='HubRoleArns'].OutputValue\"");
  });

  it('lets the sweeper read the executions of the local pipelines only, never of a pipeline in another account', () => {
    const { template } = templates.targets!;
    const sweeperReads = ofType(template, 'AWS::IAM::ManagedPolicy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === 'SweeperRole'))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((statement) => actionsOf(statement).includes('codepipeline:GetPipelineExecution'));

    expect(sweeperReads.flatMap((statement) => (statement.Resource as { 'Fn::Sub': string }[]).map((arn) => arn['Fn::Sub'].split(':').pop()))).toEqual(localPipelines);
  });

  it('admits each target account to the default bus, for CodePipeline events only; or the organization', () => {
    const perAccount = ofType(templates.targets!.template, 'AWS::Events::EventBusPolicy').map(([, policy]) => policy.Properties.Statement);
    const organization = ofType(templates['targets-org']!.template, 'AWS::Events::EventBusPolicy').map(([, policy]) => policy.Properties.Statement);

    expect(perAccount.map((statement) => statement.Principal.AWS['Fn::Sub'])).toEqual(accounts.map((accountId) => `arn:\${AWS::Partition}:iam::${accountId}:root`));
    for (const statement of [...perAccount, ...organization]) {
      expect(statement).toMatchObject({ Effect: 'Allow', Action: 'events:PutEvents' });
      expect(statement.Condition['ForAllValues:StringEquals']).toEqual({ 'events:source': ['aws.codepipeline'] });
    }
    expect(organization).toHaveLength(1);
    expect(organization[0].Condition.StringEquals).toEqual({ 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' });
  });

  it("names each bus statement after the stage's stack: another stage admitting the same account has its own", () => {
    const statementIds = (stage: string) => ofType(templates[stage]!.template, 'AWS::Events::EventBusPolicy').map(([, policy]) => policy.Properties.StatementId as string);
    // CloudFormation's physical id of an EventBusPolicy, unique per account and region across stacks.
    const otherStage = Object.values(targetResources(stageParams.accounts, undefined, 'codepipeline-sequencer-staging'))
      .filter((resource) => resource.Type === 'AWS::Events::EventBusPolicy')
      .map((resource) => resource.Properties.StatementId as string);

    expect(statementIds('targets')).toEqual(accounts.map((accountId) => `codepipeline-sequencer-targets-${accountId}`));
    expect(statementIds('targets-org')).toEqual(['codepipeline-sequencer-targets-org-organization']);
    expect(otherStage).toHaveLength(accounts.length);
    expect(otherStage.filter((id) => statementIds('targets').includes(id))).toEqual([]);
  });

  it('refuses a stage whose pipeline lives in an account without a role, naming the pipeline and what to add', () => {
    expect(refusal).toContain("stage 'unreachable' cannot be packaged");
    // The entry is named by its place, its (long) value cut short, then the rule.
    expect(refusal).toContain(`params.unreachable.pipelines.41.arn is "${remotePipelines[1]!.arn.slice(0, 60)}`);
    expect(refusal).toContain(`: account ${accounts[1]} has no role: add accounts."${accounts[1]}".roleArn`);
  });
});

// CloudFormation's short-form tags, read as plain values.
const customTags = ['!Ref', '!Sub', '!GetAtt', '!If', '!Equals', '!Not', '!Join', '!Contains', '!EachMemberEquals'].flatMap((tag) => [
  { tag, resolve: (value: string) => ({ [tag]: value }) },
  { tag, collection: 'seq' as const, resolve: (value: { toJSON(): unknown }) => ({ [tag]: value.toJSON() }) },
]);
const targetAccount = parse(readFileSync(targetAccountTemplate, 'utf8'), { customTags }) as Template;

describe('the target-account template (deploy/target-account.yml)', () => {
  const template = targetAccount;

  it('passes cfn-lint', async () => {
    expect(await cfnLintFindings(targetAccountTemplate)).toEqual([]);
  }, 60_000);

  it('lets the role read and start the listed pipelines only, with no wildcard action, trusting only the hub', () => {
    const role = template.Resources.SequencerTargetRole!;
    const [statement] = role.Properties.Policies[0].PolicyDocument.Statement as Statement[];
    const trust = role.Properties.AssumeRolePolicyDocument.Statement[0]['!If'];

    expect(role.Condition).toBe('CreateRole');
    expect(statement!.Resource).toEqual({ '!Ref': 'PipelineArns' });
    expect(actionsOf(statement!).sort()).toEqual(
      ['GetPipeline', 'GetPipelineExecution', 'GetPipelineState', 'ListActionExecutions', 'ListPipelineExecutions', 'StartPipelineExecution'].map((action) => `codepipeline:${action}`),
    );
    expect(trust[0]).toBe('TrustOrganization');
    expect(trust[1].Condition.StringEquals).toEqual({ 'aws:PrincipalOrgID': { '!Ref': 'OrganizationId' } });
    expect(trust[2].Principal).toEqual({ AWS: { '!Ref': 'HubRoleArns' } });
    expect(iamStatements(template).flatMap(actionsOf).filter((action) => action.includes('*'))).toEqual([]);
  });

  it("forwards the account's own pipeline execution state changes to the hub's default bus, through a role only that rule may use", () => {
    const rule = template.Resources.ForwardPipelineEventsRule!.Properties;
    const forwarding = template.Resources.ForwardPipelineEventsRole!.Properties;

    expect(rule.EventPattern).toEqual({
      source: ['aws.codepipeline'],
      'detail-type': ['CodePipeline Pipeline Execution State Change'],
      account: [{ '!Ref': 'AWS::AccountId' }],
    });
    expect(rule.Targets[0].Arn).toEqual({ '!Sub': 'arn:${AWS::Partition}:events:${HubRegion}:${HubAccountId}:event-bus/default' });
    expect(forwarding.AssumeRolePolicyDocument.Statement[0].Condition.ArnEquals['aws:SourceArn']).toEqual({
      '!Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/codepipeline-sequencer-forward',
    });
    expect(forwarding.Policies[0].PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['events:PutEvents'], Resource: rule.Targets[0].Arn },
    ]);
  });

  describe('its rules refuse a stack that would trust no one, or both ways, before anything is made', () => {
    type Rule = { RuleCondition: unknown; Assertions: { Assert: unknown }[] };
    const { Rules } = template as Template & { Rules: Record<string, Rule> };
    // What CloudFormation lets a rule use: Ref and the rule functions, nothing else (no Join, no Sub).
    const ruleFunctions = ['!Ref', '!And', '!Contains', '!EachMemberEquals', '!EachMemberIn', '!Equals', '!Not', '!Or', '!RefAll', '!ValueOf', '!ValueOfAll'];
    const functionsIn = (value: unknown): string[] =>
      value === null || typeof value !== 'object' ? [] : Object.entries(value).flatMap(([key, inner]) => [...(key.startsWith('!') ? [key] : []), ...functionsIn(inner)]);
    /** The rule's functions as CloudFormation documents them; a CommaDelimitedList is its value split at every comma. */
    const evaluate = (value: unknown, parameters: Record<string, string>): unknown => {
      if (typeof value !== 'object' || value === null) return value;
      const [[name, argument]] = Object.entries(value) as [[string, unknown]];
      const args = [argument].flat().map((inner) => evaluate(inner, parameters));
      if (name === '!Ref') return argument === 'HubRoleArns' ? parameters.HubRoleArns!.split(',') : parameters[argument as string];
      if (name === '!Not') return !args[0];
      if (name === '!Equals') return args[0] === args[1];
      if (name === '!Contains') return (args[0] as string[]).includes(args[1] as string);
      if (name === '!EachMemberEquals') return (args[0] as string[]).every((member) => member === args[1]);
      throw new Error(`no evaluation of ${name} here`);
    };
    const accepts = (parameters: Record<string, string>) =>
      Object.values(Rules).every((rule) => !evaluate(rule.RuleCondition, parameters) || rule.Assertions.every(({ Assert }) => evaluate(Assert, parameters)));

    it('uses only what CloudFormation accepts in a rule', () => {
      expect(Object.keys(Rules)).toEqual(['TrustSomeone', 'TrustOneWay']);
      expect(functionsIn(Rules).filter((name) => !ruleFunctions.includes(name))).toEqual([]);
    });

    it.each([
      ['no HubRoleArns and no OrganizationId', { HubRoleArns: '', OrganizationId: '' }, 'refused'],
      ['an empty entry among the roles', { HubRoleArns: `${roleArn('111122223333')},`, OrganizationId: '' }, 'refused'],
      ['the hub roles', { HubRoleArns: `${roleArn('111122223333')},${roleArn('111122223333')}-2`, OrganizationId: '' }, 'accepted'],
      ['an organization instead', { HubRoleArns: '', OrganizationId: 'o-a1b2c3d4e5' }, 'accepted'],
      ['both the hub roles and an organization', { HubRoleArns: roleArn('111122223333'), OrganizationId: 'o-a1b2c3d4e5' }, 'refused'],
    ])('%s: %s', (_, parameters, outcome) => {
      expect(accepts(parameters) ? 'accepted' : 'refused').toBe(outcome);
    });
  });
});

describe('every AWS call a function makes locally across accounts, the role it is made with allows', () => {
  // The README's train across accounts and regions: the hub's functions call with their own roles
  // (checked against the hub's packaged roles) and, in each target account, with the role they
  // assume there (checked against deploy/target-account.yml's). local/engine.ts tells the two
  // apart by the key that signed each call.
  it('the hub functions’ own roles, and the target accounts’ role', async () => {
    // Prepare
    const { LocalEngine, closeLocalEngine } = await import('../../local/engine.js');
    const { awsCallsByFunction, assumedRoleCallsByFunction } = await import('../../local/sdk-clients.js');
    const { loadWorld } = await import('../../local/world.js');
    const { accountsTrainInput } = await import('../e2e/support.js');

    // Act
    try {
      const engine = await LocalEngine.create({ world: await loadWorld('local/worlds/accounts.json') });
      await expect(engine.run({ input: accountsTrainInput })).resolves.toMatchObject({ status: 'SUCCEEDED' });
    } finally {
      await closeLocalEngine();
    }

    // Assess
    const targetAllows = new Set(iamStatements(targetAccount).flatMap(actionsOf));
    const unallowed = (calls: Map<string, Set<string>>, allows: (functionKey: string) => Set<string>) =>
      [...calls].flatMap(([functionKey, actions]) => [...actions].filter((action) => !allows(functionKey).has(action)).map((action) => `${functionKey} ${action}`));
    expect(unallowed(awsCallsByFunction, (functionKey) => actionsAllowed(templates.targets!.template, roleOfFunction[functionKey]!))).toEqual([]);
    expect(unallowed(assumedRoleCallsByFunction, () => targetAllows)).toEqual([]);
    // Both kinds were seen: the hub assumed the roles, and started and read pipelines with them.
    expect([...awsCallsByFunction.get('decideOrder')!]).toContain('sts:AssumeRole');
    expect([...assumedRoleCallsByFunction.values()].flatMap((actions) => [...actions])).toEqual(
      expect.arrayContaining(['codepipeline:GetPipeline', 'codepipeline:StartPipelineExecution', 'codepipeline:GetPipelineExecution', 'codepipeline:ListActionExecutions']),
    );
  });
});
