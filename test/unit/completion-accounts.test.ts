import 'aws-sdk-client-mock-jest';
import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { useClock } from '../../src/clock.js';
import { completionOnDynamo } from '../support/completion-table.js';
import { useStageConfig } from '../support/fixtures.js';

/*
 * The event path across accounts, on a real DynamoDB (dynalite, in process): a watch is keyed by
 * where its pipeline is (account, region, CodePipeline name), so an event finds only the watch of
 * the pipeline it is about, whatever the stage calls it, and a namesake in another account or
 * region (its events forwarded to the same bus) wakes nobody. The sweeper reads a pipeline
 * elsewhere through that account's role. Step Functions, STS and CodePipeline are mocked.
 */

const stepFunctions = mockClient(SFNClient);
const codePipeline = mockClient(CodePipelineClient);
const sts = mockClient(STSClient);
const hub = '123456789012';
const staging = '222233334444';
const prod = '333344445555';
const roleArn = (accountId: string) => `arn:aws:iam::${accountId}:role/pipeline-sequencer-target`;
const originOf = (train: string) => `arn:aws:states:us-east-1:${hub}:execution:codepipeline-sequencer-dev:${train}`;
const now = Date.parse('2026-01-01T10:00:00Z');
const deadline = new Date(now + 86_400_000).toISOString();

/** One CodePipeline name, `deploy-api`, in the hub and in two other accounts, under three stage names. */
const targets = {
  pipelines: [
    'deploy-api',
    { name: 'deploy-staging', arn: `arn:aws:codepipeline:eu-west-1:${staging}:deploy-api` },
    { name: 'deploy-prod', arn: `arn:aws:codepipeline:eu-west-1:${prod}:deploy-api` },
  ],
  accounts: { [staging]: { roleArn: roleArn(staging) }, [prod]: { roleArn: roleArn(prod) } },
  sequences: { release: ['deploy-api', 'deploy-staging', 'deploy-prod'] },
  defaultSequence: 'release',
};

const local = completionOnDynamo('completion-accounts', { accessKeyId: 'hub-key', secretAccessKey: 'hub-secret' });

beforeEach(async () => {
  stepFunctions.reset();
  codePipeline.reset();
  sts.reset();
  stepFunctions.on(SendTaskSuccessCommand).resolves({});
  sts.on(AssumeRoleCommand).callsFake(({ RoleArn }: { RoleArn: string }) => ({
    Credentials: { AccessKeyId: `key-of-${RoleArn.split(':')[4]}`, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(now + 900_000) },
  }));
  useClock({ now: () => now });
  useStageConfig(targets);
});

const watch = (train: string, pipelineName: string, pipelineExecutionId: string) =>
  local.watching.watchExecutions({ origin: { executionArn: originOf(train), executionName: train } } as Parameters<typeof local.watching.watchExecutions>[0], [
    { pipelineName, pipelineExecutionId, deadline },
  ]);

/** The callback Task's token write, as the state machine makes it. */
async function park(train: string, token: string): Promise<void> {
  await local.tableClient.send(
    new UpdateItemCommand({
      TableName: process.env.COMPLETION_TABLE_NAME,
      Key: { pk: { S: `wait#${originOf(train)}` } },
      UpdateExpression: 'SET #token = :token, #seq = :seq, #expiresAt = :expiresAt, #parkedAtRedrive = :redrive, #parkedBy = :execution',
      ConditionExpression: 'attribute_not_exists(#woken) OR #woken < :seq',
      ExpressionAttributeNames: { '#token': 'token', '#seq': 'seq', '#woken': 'woken', '#expiresAt': 'expiresAt', '#parkedAtRedrive': 'parkedAtRedrive', '#parkedBy': 'parkedBy' },
      ExpressionAttributeValues: { ':token': { S: token }, ':seq': { N: '1' }, ':expiresAt': { N: String(now / 1000 + 86_400) }, ':redrive': { N: '0' }, ':execution': { S: originOf(train) } },
    }),
  );
}

/** The event as it reaches the hub's bus: a forwarded one keeps its own account and region. */
const event = (accountId: string, region: string, pipelineExecutionId: string) => ({
  version: '0',
  source: 'aws.codepipeline',
  'detail-type': 'CodePipeline Pipeline Execution State Change',
  account: accountId,
  region,
  detail: { pipeline: 'deploy-api', 'execution-id': pipelineExecutionId, state: 'SUCCEEDED', version: 1, 'pipeline-execution-attempt': 1 },
});

const completed = () =>
  stepFunctions.commandCalls(SendTaskSuccessCommand).map((call) => [call.args[0].input.taskToken, JSON.parse(call.args[0].input.output!).pipelineName]);

describe('the event path tells namesakes apart by where they are', () => {
  it('an end in one account never completes the wait on its namesake in another, even for the same execution id', async () => {
    // Prepare: two trains watch deploy-api in staging and in prod; the ids collide on purpose.
    await watch('train-staging', 'deploy-staging', 'exec-1');
    await watch('train-prod', 'deploy-prod', 'exec-1');
    await park('train-staging', 'token-staging');
    await park('train-prod', 'token-prod');

    // Act
    const outcome = await local.completion.onPipelineEvent(event(prod, 'eu-west-1', 'exec-1'));

    // Assess
    expect(outcome).toBe('completed');
    expect(completed()).toEqual([['token-prod', 'deploy-prod']]);
  });

  it('the hub pipeline’s end wakes its own run, and a forwarded namesake’s does not', async () => {
    await watch('train-1', 'deploy-api', 'exec-hub');
    await park('train-1', 'token-1');

    const foreign = await local.completion.onPipelineEvent(event(staging, 'eu-west-1', 'exec-hub'));
    const ownRegionElsewhere = await local.completion.onPipelineEvent(event(hub, 'eu-west-1', 'exec-hub'));
    const own = await local.completion.onPipelineEvent(event(hub, 'us-east-1', 'exec-hub'));

    expect([foreign, ownRegionElsewhere, own]).toEqual(['not-ours', 'not-ours', 'completed']);
    expect(completed()).toEqual([['token-1', 'deploy-api']]);
  });

  it('an event without the account and region it came from is refused by name', async () => {
    const { account: _account, ...withoutAccount } = event(prod, 'eu-west-1', 'exec-1');

    await expect(local.completion.onPipelineEvent(withoutAccount)).rejects.toMatchObject({ name: 'InvalidInput' });
    expect(completed()).toEqual([]);
  });
});

describe('the sweeper reads a pipeline elsewhere through its account’s role', () => {
  it('notices the end of a pipeline in an account that forwards nothing, with that account’s credentials in its region', async () => {
    // Prepare
    await watch('train-prod', 'deploy-prod', 'exec-9');
    await park('train-prod', 'token-prod');
    const seen: Array<{ name: string; region: string; accessKeyId: string }> = [];
    codePipeline.on(GetPipelineExecutionCommand).callsFake(async ({ pipelineName }: { pipelineName: string }, getClient: () => CodePipelineClient) => {
      const client = getClient();
      seen.push({ name: pipelineName, region: await client.config.region(), accessKeyId: (await client.config.credentials()).accessKeyId });
      return { pipelineExecution: { status: 'Succeeded' } };
    });

    // Act
    const result = await local.sweeper.sweep();

    // Assess
    expect(result).toMatchObject({ watched: 1, ended: 1, failed: 0, outcomes: ['completed'] });
    expect(seen).toEqual([{ name: 'deploy-api', region: 'eu-west-1', accessKeyId: `key-of-${prod}` }]);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: roleArn(prod), RoleSessionName: local.sweeper.sweeperSession });
    expect(completed()).toEqual([['token-prod', 'deploy-prod']]);
  });

  it('assumes each role afresh in each sweep: credentials never outlive the invocation', async () => {
    await watch('train-prod', 'deploy-prod', 'exec-9');
    // The client resolves its credentials when it signs: ask for them as a real call would.
    codePipeline.on(GetPipelineExecutionCommand).callsFake(async (_input: unknown, getClient: () => CodePipelineClient) => {
      await getClient().config.credentials();
      return { pipelineExecution: { status: 'InProgress' } };
    });

    await local.sweeper.sweep();
    await local.sweeper.sweep();

    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });
});
