import { CodePipelineClient, GetPipelineCommand, ListPipelineExecutionsCommand, PipelineNotFoundException, StartPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { WorldFileError } from '../../local/refusals.js';
import { parseWorld } from '../../local/world.js';
import { rejectionOf } from '../support/rejection.js';

/**
 * The emulated accounts, through the real SDK clients: STS AssumeRole answers as each role's
 * trust allows, and each account's CodePipeline answers only to that account's credentials, in
 * the region they were signed for.
 */
const staging = '222233334444';
const prod = '333344445555';
const hubKeys = { accessKeyId: 'local', secretAccessKey: 'local' };
const worldJson = {
  startTime: '2026-01-01T00:00:00Z',
  pipelines: [{ name: 'deploy-api', durationSeconds: 60 }],
  accounts: [
    { id: staging, role: { name: 'sequencer' }, regions: { 'eu-west-1': [{ name: 'deploy-api', sequencedAs: 'deploy-staging', durationSeconds: 60 }] } },
    { id: prod, role: { name: 'sequencer', trusts: [staging] }, forwardsEvents: false, regions: { 'eu-west-1': [{ name: 'prod-only', durationSeconds: 60 }] } },
  ],
};

let emulator: Emulator;
let nowMs = 0;
beforeEach(async () => {
  const world = parseWorld(worldJson, 'accounts world');
  nowMs = Date.parse(world.startTime);
  emulator = await startEmulator({ world, clock: { now: () => nowMs } });
});
afterEach(() => emulator.close());

const sts = (credentials = hubKeys) => new STSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const codePipeline = (region: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = hubKeys) =>
  new CodePipelineClient({ endpoint: emulator.endpoint, region, credentials, maxAttempts: 1 });
async function assume(accountId: string, credentials = hubKeys) {
  const { Credentials } = await sts(credentials).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/sequencer`, RoleSessionName: 'run-1', DurationSeconds: 900 }),
  );
  return { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
}
const pipelineArn = async (client: CodePipelineClient, name: string) => (await client.send(new GetPipelineCommand({ name }))).metadata?.pipelineArn;

describe('the emulator serves several accounts', () => {
  it("answers the hub's keys with the hub's pipeline, and the staging role's keys with staging's namesake, in its region only", async () => {
    // Act
    const stagingKeys = await assume(staging);

    // Assess
    expect(await pipelineArn(codePipeline('us-east-1'), 'deploy-api')).toBe('arn:aws:codepipeline:us-east-1:123456789012:deploy-api');
    expect(await pipelineArn(codePipeline('eu-west-1', stagingKeys), 'deploy-api')).toBe(`arn:aws:codepipeline:eu-west-1:${staging}:deploy-api`);
    expect(await rejectionOf(pipelineArn(codePipeline('us-east-1', stagingKeys), 'deploy-api'))).toBeInstanceOf(PipelineNotFoundException);
    expect(await rejectionOf(pipelineArn(codePipeline('eu-west-1'), 'prod-only'))).toBeInstanceOf(PipelineNotFoundException);
    expect(emulator.codePipelineCalls().map((call) => [call.accountId, call.region, call.pipelineName])).toEqual([
      ['123456789012', 'us-east-1', 'deploy-api'],
      [staging, 'eu-west-1', 'deploy-api'],
      [staging, 'us-east-1', 'deploy-api'],
      ['123456789012', 'eu-west-1', 'prod-only'],
    ]);
  });

  it("names who started each execution in its trigger's detail, as CodePipeline does: the assumed role's session, or the hub's functions", async () => {
    // Prepare
    const stagingKeys = await assume(staging);

    // Act
    await codePipeline('eu-west-1', stagingKeys).send(new StartPipelineExecutionCommand({ name: 'deploy-api' }));
    await codePipeline('us-east-1').send(new StartPipelineExecutionCommand({ name: 'deploy-api' }));
    const listed = async (client: CodePipelineClient) => (await client.send(new ListPipelineExecutionsCommand({ pipelineName: 'deploy-api' }))).pipelineExecutionSummaries!.map((summary) => summary.trigger);

    // Assess
    expect(await listed(codePipeline('eu-west-1', stagingKeys))).toEqual([
      { triggerType: 'StartPipelineExecution', triggerDetail: `arn:aws:sts::${staging}:assumed-role/sequencer/run-1` },
    ]);
    expect(await listed(codePipeline('us-east-1'))).toEqual([
      { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:sts::123456789012:assumed-role/codepipeline-sequencer-local/codepipeline-sequencer-local' },
    ]);
  });

  it('denies AssumeRole where the trust does not admit the caller, and follows a chain it does admit', async () => {
    // Act
    const denied = await rejectionOf(assume(prod));
    const chained = await assume(prod, await assume(staging));

    // Assess
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(await pipelineArn(codePipeline('eu-west-1', chained), 'prod-only')).toBe(`arn:aws:codepipeline:eu-west-1:${prod}:prod-only`);
    expect(emulator.assumeRoleCalls().map((call) => [call.callerAccountId, call.roleArn.split(':')[4], call.granted])).toEqual([
      ['123456789012', prod, false],
      ['123456789012', staging, true],
      [staging, prod, true],
    ]);
  });

  it('refuses a temporary key it never issued, and a session name STS would refuse', async () => {
    // Act
    const forged = await rejectionOf(pipelineArn(codePipeline('eu-west-1', { accessKeyId: 'ASIAFORGED', secretAccessKey: 'x' }), 'deploy-api'));
    const badSession = await rejectionOf(
      sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${staging}:role/sequencer`, RoleSessionName: 'has spaces', DurationSeconds: 900 })),
    );

    // Assess
    expect(forged).toMatchObject({ name: 'UnrecognizedClientException' });
    expect(badSession).toMatchObject({ name: 'ValidationError' });
  });

  it("records which accounts forward their events, for the event path; the hub's always reach it", () => {
    expect([emulator.forwardsEvents('123456789012'), emulator.forwardsEvents(staging), emulator.forwardsEvents(prod)]).toEqual([true, true, false]);
  });

  it('lists every account\'s executions under the stage\'s names, with where they ran', async () => {
    // Prepare
    const stagingKeys = await assume(staging);
    const { StartPipelineExecutionCommand } = await import('@aws-sdk/client-codepipeline');

    // Act
    await codePipeline('eu-west-1', stagingKeys).send(new StartPipelineExecutionCommand({ name: 'deploy-api' }));
    nowMs += 1000;
    await codePipeline('us-east-1').send(new StartPipelineExecutionCommand({ name: 'deploy-api' }));

    // Assess
    const executions = emulator.executions();
    expect(executions.map((execution) => [execution.pipelineName, execution.location])).toEqual([
      ['deploy-staging', { accountId: staging, region: 'eu-west-1', pipelineName: 'deploy-api' }],
      ['deploy-api', undefined],
    ]);
    expect(executions[0]!.pipelineExecutionId).not.toBe(executions[1]!.pipelineExecutionId);
  });
});

describe('world files with accounts', () => {
  it("accepts a fault on an account's pipeline by the name calls send, and refuses one on a name no account has", () => {
    const fault = (pipelineName: string) => ({ ...worldJson, faults: [{ operation: 'GetPipeline', error: 'ThrottlingException', count: 1, pipelineName }] });

    expect(() => parseWorld(fault('prod-only'), 'w')).not.toThrow();
    expect(() => parseWorld(fault('deploy-staging'), 'w')).toThrow('faults[0].pipelineName: no pipeline named "deploy-staging"');
  });

  it.each([
    ['the same stage name twice', { ...worldJson, pipelines: [{ name: 'deploy-staging', durationSeconds: 60 }] }, '"deploy-staging" already names'],
    ['the hub as another account', { ...worldJson, accounts: [{ ...worldJson.accounts[0], id: '123456789012' }] }, 'accounts[0].id: expected another account'],
    ['sequencedAs in the hub', { ...worldJson, pipelines: [{ name: 'x', sequencedAs: 'y', durationSeconds: 60 }] }, 'pipelines[0].sequencedAs: only for a pipeline in accounts'],
    ['a region that is not one', { ...worldJson, accounts: [{ ...worldJson.accounts[0], regions: { Europe: [{ name: 'a', durationSeconds: 1 }] } }] }, 'expected a region'],
  ])('refuses %s, naming the field', (_, json, message) => {
    expect(() => parseWorld(json, 'w')).toThrow(WorldFileError);
    expect(() => parseWorld(json, 'w')).toThrow(expect.objectContaining({ message: expect.stringContaining(message) }));
  });
});
