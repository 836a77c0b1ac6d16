import 'aws-sdk-client-mock-jest';
import { CodePipelineClient, GetPipelineCommand } from '@aws-sdk/client-codepipeline';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { core } from '../../handlers/decide-order.js';
import { roleSessionName } from '../../src/accounts.js';
import { logger } from '../../src/logger.js';
import { parseStageConfig } from '../../src/config.js';
import { stageParamProblems } from '../../src/stage-params.js';
import { useClock } from '../../src/clock.js';
import { pipelineKey, targetForEvent, targetKey, targetOf } from '../../src/targets.js';
import { awsError, execution, stageConfig, useStageConfig } from '../support/fixtures.js';

/** serverless.yml's own defaults: what every stage starts from. */
const defaultParams = (parse(readFileSync('serverless.yml', 'utf8')) as { params: { default: Record<string, unknown> } }).params.default;

const codePipeline = mockClient(CodePipelineClient);
const sts = mockClient(STSClient);
const stepFunctions = mockClient(SFNClient);
const startTime = '2026-01-05T06:00:00.000Z';
const staging = '222233334444';
const prod = '333344445555';
const roleArn = (accountId: string) => `arn:aws:iam::${accountId}:role/pipeline-sequencer-target`;
const arn = (region: string, accountId: string, name: string) => `arn:aws:codepipeline:${region}:${accountId}:${name}`;
const targets = {
  pipelines: [
    'P1',
    { name: 'deploy-staging', arn: arn('eu-west-1', staging, 'deploy-api') },
    { name: 'smoke-staging', arn: arn('us-east-1', staging, 'smoke') },
    { name: 'deploy-prod', arn: arn('eu-west-1', prod, 'deploy-api') },
  ],
  accounts: { [staging]: { roleArn: roleArn(staging) }, [prod]: { roleArn: roleArn(prod) } },
};
const credentialsOf = (accountId: string, serial = 1) => ({
  AccessKeyId: `ASIA${accountId}${serial}`,
  SecretAccessKey: `secret-of-${accountId}`,
  SessionToken: `token-${accountId}`,
  Expiration: new Date(Date.parse(startTime) + 900_000),
});

const decide = (input: unknown, name = execution.name) =>
  core({ input, execution: { ...execution, name, stateMachineArn: execution.stateMachineArn, startTime }, retryCount: 0, redriveCount: 0 });

/** What each GetPipeline was signed with: the client's region and access key. */
const seen: { name: string; region: string; accessKeyId: string }[] = [];

const savedEnvironment = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnvironment };
});

beforeEach(() => {
  // The hub's own credentials, as Lambda gives them to the functions.
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'hub-key', AWS_SECRET_ACCESS_KEY: 'hub-secret' });
  codePipeline.reset();
  sts.reset();
  stepFunctions.reset();
  seen.length = 0;
  useStageConfig(targets);
  useClock({ now: () => Date.parse(startTime) });
  let serial = 0;
  sts.on(AssumeRoleCommand).callsFake(({ RoleArn }: { RoleArn: string }) => {
    serial += 1;
    return { Credentials: credentialsOf(RoleArn.split(':')[4]!, serial) };
  });
  codePipeline.on(GetPipelineCommand).callsFake(async ({ name }: { name: string }, getClient: () => CodePipelineClient) => {
    const client = getClient();
    const credentials = await client.config.credentials();
    seen.push({ name, region: await client.config.region(), accessKeyId: credentials.accessKeyId });
    return { pipeline: { name, pipelineType: 'V2', roleArn: 'r', stages: [] } };
  });
  stepFunctions.on(ListExecutionsCommand).resolves({
    executions: [{ executionArn: execution.id, stateMachineArn: execution.stateMachineArn, name: execution.name, status: 'RUNNING', startDate: new Date(startTime) }],
  });
});

describe('stage config: pipelines elsewhere', () => {
  it('accepts { name, arn } entries with a role per account, and finds where each pipeline is', () => {
    // Act
    const config = parseStageConfig(JSON.stringify({ ...stageConfig, ...targets }));

    // Assess
    expect(targetOf(config, 'P1')).toEqual({ name: 'P1', pipelineName: 'P1' });
    expect(targetOf(config, 'deploy-prod')).toEqual({
      name: 'deploy-prod',
      pipelineName: 'deploy-api',
      remote: { partition: 'aws', accountId: prod, region: 'eu-west-1', roleArn: roleArn(prod) },
    });
    // Twins in two accounts never share a key; the hub's own pipelines key by the hub's account.
    const home = { accountId: '123456789012', region: 'us-east-1' };
    expect(targetKey(targetOf(config, 'deploy-staging'), home)).toBe(pipelineKey(staging, 'eu-west-1', 'deploy-api'));
    expect(targetKey(targetOf(config, 'deploy-prod'), home)).toBe(pipelineKey(prod, 'eu-west-1', 'deploy-api'));
    expect(targetKey(targetOf(config, 'P1'), home)).toBe('123456789012/us-east-1/P1');
    // An event finds the stage's pipeline by where it happened, never by its name alone.
    expect(targetForEvent(config, home, { accountId: prod, region: 'eu-west-1', pipelineName: 'deploy-api' })?.name).toBe('deploy-prod');
    expect(targetForEvent(config, home, { accountId: staging, region: 'eu-west-1', pipelineName: 'deploy-api' })?.name).toBe('deploy-staging');
    expect(targetForEvent(config, home, { accountId: '123456789012', region: 'us-east-1', pipelineName: 'deploy-api' })).toBeUndefined();
    expect(targetForEvent(config, home, { accountId: '123456789012', region: 'us-east-1', pipelineName: 'P1' })?.name).toBe('P1');
  });

  it.each([
    ['an ARN that is not a CodePipeline ARN', { pipelines: ['P1', { name: 'x', arn: 'arn:aws:s3:::bucket' }] }, 'pipelines.1.arn'],
    ['an entry without its name', { pipelines: ['P1', { arn: arn('eu-west-1', staging, 'x') }] }, 'must be a pipeline name or { name, arn }'],
    ['an account without a role', { pipelines: ['P1', { name: 'x', arn: arn('eu-west-1', staging, 'x') }] }, `account ${staging} has no role`],
    ['a role in another account', { ...targets, accounts: { ...targets.accounts, [prod]: { roleArn: roleArn(staging) } } }, `is a role in account ${staging}, not ${prod}`],
    ['a role nobody needs', { ...targets, accounts: { ...targets.accounts, '444455556666': { roleArn: roleArn('444455556666') } } }, 'no pipeline of the stage lives in this account'],
    ['one pipeline under two names', { ...targets, pipelines: [...targets.pipelines, { name: 'again', arn: arn('eu-west-1', prod, 'deploy-api') }] }, 'a pipeline has one name'],
    ['one name twice', { ...targets, pipelines: [...targets.pipelines, { name: 'P1', arn: arn('eu-west-1', prod, 'other') }] }, "'P1' is listed twice"],
  ])('refuses %s, at function start and at package time', (_, overrides, message) => {
    // Act
    const atStart = () => parseStageConfig(JSON.stringify({ ...stageConfig, ...overrides }));
    const atPackage = stageParamProblems('dev', { ...defaultParams, accounts: {}, ...overrides, sequences: { only: ['P1'] }, defaultSequence: 'only', scheduleInput: { sequence: 'only' } });

    // Assess
    expect(atStart).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining(message.replace(/\.1\./, '.1.')) }));
    expect(atPackage).toEqual([expect.stringContaining(message)]);
  });

  it('names every such problem at once, one line each, not only the first', () => {
    // Prepare: an account without a role, a role in another account, one nobody needs, a name twice, one pipeline under two names.
    const overrides = {
      pipelines: [...targets.pipelines, { name: 'x', arn: arn('eu-west-1', '444455556666', 'x') }, { name: 'P1', arn: arn('eu-west-1', prod, 'deploy-api') }],
      accounts: { [staging]: { roleArn: roleArn(staging) }, [prod]: { roleArn: roleArn(staging) }, '555566667777': { roleArn: roleArn('555566667777') } },
    };

    // Act
    const atStart = () => parseStageConfig(JSON.stringify({ ...stageConfig, ...overrides }));
    const atPackage = stageParamProblems('dev', { ...defaultParams, ...overrides, sequences: { only: ['P1'] }, defaultSequence: 'only', scheduleInput: { sequence: 'only' } });

    // Assess
    const expected = [
      'no role: add accounts."444455556666".roleArn',
      "'P1' is listed twice",
      'a pipeline has one name in a stage',
      `is a role in account ${staging}, not ${prod}`,
      'no pipeline of the stage lives in this account',
    ];
    expect(atPackage).toHaveLength(expected.length);
    for (const [index, part] of expected.entries()) expect(atPackage[index]).toContain(part);
    expect(atStart).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringMatching(new RegExp(expected.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'))) }));
  });
});

describe('the run names itself in the target account', () => {
  it.each([
    ['run-1', 'run-1'],
    ['r'.repeat(64), 'r'.repeat(64)],
    ['release_2026-01-05.prod@team=a,b+c', 'release_2026-01-05.prod@team=a,b+c'],
  ])('keeps an execution name STS takes: %s', (name, expected) => {
    expect(roleSessionName(name)).toBe(expected);
  });

  it.each([
    'release-2026-01-05T06:00:00Z-with-a-long-tail-of-eighty-characters-in-it-0000000',
    'release #42 (hotfix)',
    'x',
  ])('turns an execution name STS would refuse into 2 to 64 allowed characters, distinct per name: %s', (name) => {
    const session = roleSessionName(name);

    expect(session).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(session.startsWith(name.replace(/[^\w+=,.@-]/g, '-').slice(0, 5))).toBe(true);
    expect(roleSessionName(`${name}-other`)).not.toBe(session);
  });
});

describe('decide-order reaches every pipeline before anything starts', () => {
  it("asks about each pipeline with its own account's credentials, in its region, assuming each role once per invocation", async () => {
    // Act
    await decide({ order: ['P1', 'deploy-staging', 'smoke-staging', 'deploy-prod'] }, 'release-7');

    // Assess
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: roleArn(staging), RoleSessionName: 'release-7', DurationSeconds: 900 });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: roleArn(prod), RoleSessionName: 'release-7' });
    // decide-order asks several pipelines at once: the calls may come in any order.
    expect(seen).toHaveLength(4);
    expect(seen).toEqual(expect.arrayContaining([
      { name: 'P1', region: 'us-east-1', accessKeyId: expect.not.stringMatching(/^ASIA/) },
      { name: 'deploy-api', region: 'eu-west-1', accessKeyId: expect.stringMatching(new RegExp(`^ASIA${staging}`)) },
      { name: 'smoke', region: 'us-east-1', accessKeyId: expect.stringMatching(new RegExp(`^ASIA${staging}`)) },
      { name: 'deploy-api', region: 'eu-west-1', accessKeyId: expect.stringMatching(new RegExp(`^ASIA${prod}`)) },
    ]));
  });

  it('forgets the credentials when the next invocation starts', async () => {
    // Act
    await decide({ order: ['deploy-staging'], dryRun: true }, 'run-a');
    await decide({ order: ['deploy-staging'], dryRun: true }, 'run-b');

    // Assess
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleSessionName)).toEqual(['run-a', 'run-b']);
    expect(new Set(seen.map((call) => call.accessKeyId)).size).toBe(2);
  });

  it('never assumes a role for a stage of local pipelines', async () => {
    // Act
    await decide({ order: ['P1'] });

    // Assess
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
  });

  it('refuses the run with PipelineAccessDenied naming account, region, role and pipeline when AssumeRole is denied', async () => {
    // Prepare
    sts.on(AssumeRoleCommand, { RoleArn: roleArn(prod) }).rejects(awsError('AccessDenied', 403));

    // Act
    const refused = decide({ order: ['P1', 'deploy-staging', 'deploy-prod'] });

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: 'PipelineAccessDenied',
      message: expect.stringMatching(new RegExp(`^GetPipeline deploy-prod: cannot reach pipeline 'deploy-api' in account ${prod}, region eu-west-1, through role ${roleArn(prod)}: .*AccessDenied`)),
    });
    await expect(refused).rejects.toMatchObject({ message: expect.not.stringContaining('secret-of') });
    // What to fix: the trust, which a hub role created again no longer meets.
    await expect(refused).rejects.toMatchObject({ message: expect.stringContaining('created again since that stack was deployed is not the one it trusts: deploy it again') });
  });

  it('refuses with PipelineAccessDenied when the role may not read the pipeline', async () => {
    // Prepare
    codePipeline.on(GetPipelineCommand, { name: 'smoke' }).rejects(awsError('AccessDeniedException', 400));

    // Act, Assess
    await expect(decide({ order: ['smoke-staging'] })).rejects.toMatchObject({
      name: 'PipelineAccessDenied',
      message: expect.stringContaining(`GetPipeline smoke-staging (pipeline 'smoke' in account ${staging}, region us-east-1, through role ${roleArn(staging)}): AccessDeniedException`),
    });
  });

  it('reports a transient STS failure as AwsUnavailable, which the state machine retries', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).rejects(awsError('Throttling', 400));

    // Act, Assess
    await expect(decide({ order: ['deploy-prod'] })).rejects.toMatchObject({ name: 'AwsUnavailable', message: expect.stringContaining(`AssumeRole ${roleArn(prod)}`) });
    await expect(decide({ order: ['deploy-prod'] })).rejects.toMatchObject({ message: expect.not.stringContaining('trust policy') });
  });
});

describe('assumed credentials are never logged', () => {
  it('logs the run at DEBUG without a key, secret or session token, whether the role is granted or denied', async () => {
    // Prepare
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    logger.setLogLevel('DEBUG');
    sts.on(AssumeRoleCommand, { RoleArn: roleArn(prod) }).rejects(awsError('AccessDenied', 403));

    // Act
    try {
      await decide({ order: ['P1', 'deploy-staging', 'smoke-staging'] });
      await decide({ order: ['deploy-prod'] }).catch(() => undefined);
    } finally {
      logger.setLogLevel('SILENT');
      write.mockRestore();
    }

    // Assess: the run was logged, and nothing of the credentials was.
    const output = written.join('');
    expect(output).toContain('order decided');
    for (const secret of ['secret-of-', `token-${staging}`, `ASIA${staging}`]) expect(output).not.toContain(secret);
  });
});
