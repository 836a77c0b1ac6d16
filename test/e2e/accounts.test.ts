import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeLocalEngine, LocalEngine } from '../../local/engine.js';
import { hubAccountId, hubRegion, loadWorld, parseWorld, worldTargets, type World } from '../../local/world.js';
import type { CodePipelineCall } from '../../local/emulator/index.js';
import { roleSessionName } from '../../src/accounts.js';
import { sweeperSession } from '../../src/sweep.js';
import type { StageConfig } from '../../src/config.js';
import { copyOfService } from '../support/sls.js';
import { cleanEnv, exitCode, warmSequencer } from './binary.js';
import { accountsTrainInput, ours, startTime } from './support.js';

afterAll(closeLocalEngine);

const staging = '222233334444';
const prod = '333344445555';
const roleArn = (accountId: string) => `arn:aws:iam::${accountId}:role/pipeline-sequencer-target`;
const day = 86_400;

async function run(theWorld: World, input: unknown, options: { redrive?: boolean; settings?: Partial<StageConfig> } = {}) {
  const engine = await LocalEngine.create({ world: theWorld, ...(options.settings ? { settings: options.settings } : {}) });
  const report = await engine.run({ input, ...(options.redrive ? { redrive: true } : {}) });
  return { report, calls: engine.emulator.codePipelineCalls(), assumed: engine.emulator.assumeRoleCalls() };
}

/**
 * Every CodePipeline call was signed by the account that holds the pipeline, in its region:
 * the hub's keys never reached another account's pipeline, nor an assumed role's the hub's.
 */
function expectEachCallInItsOwnAccount(theWorld: World, calls: CodePipelineCall[]): void {
  const locations = new Set(worldTargets(theWorld).map((target) => `${target.accountId}/${target.region}/${target.definition.name}`));
  const misplaced = calls.filter((call) => call.pipelineName !== undefined && !locations.has(`${call.accountId}/${call.region}/${call.pipelineName}`));
  expect(misplaced).toEqual([]);
}

const callsBy = (calls: CodePipelineCall[], accountId: string) => calls.filter((call) => call.accountId === accountId);

describe('a train across accounts and regions (local/worlds/accounts.json)', () => {
  const input = accountsTrainInput;

  it('starts each pipeline once, in its own account and region, in order, with outputs forwarded from another account', async () => {
    // Prepare
    const theWorld = await loadWorld('local/worlds/accounts.json');

    // Act
    const { report, calls, assumed } = await run(theWorld, input);

    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(ours(report).map((execution) => [execution.pipelineName, execution.location])).toEqual([
      ['build', undefined],
      ['deploy-staging', { accountId: staging, region: 'eu-west-1', pipelineName: 'deploy-api' }],
      ['deploy-prod-us', { accountId: prod, region: 'us-east-1', pipelineName: 'deploy-api' }],
      ['deploy-prod-eu', { accountId: prod, region: 'eu-west-1', pipelineName: 'deploy-api' }],
    ]);
    const prodUs = ours(report).find((execution) => execution.pipelineName === 'deploy-prod-us')!;
    expect(prodUs.variables).toEqual({ IMAGE_TAG: '1.4.2', STAGING_ENDPOINT: 'https://staging.api.example.com' });
    expectEachCallInItsOwnAccount(theWorld, calls);
    expect(new Set(callsBy(calls, hubAccountId).map((call) => call.pipelineName))).toEqual(new Set(['build']));
    expect(new Set(callsBy(calls, staging).map((call) => `${call.region}/${call.pipelineName}`))).toEqual(new Set(['eu-west-1/deploy-api']));
    expect(new Set(callsBy(calls, prod).map((call) => `${call.region}/${call.pipelineName}`))).toEqual(new Set(['us-east-1/deploy-api', 'eu-west-1/deploy-api']));
    // Only the configured roles, from the hub, every one granted: in the run's name, or the
    // sweeper's (it reads the prod account, which forwards no events, for every run).
    expect(new Set(assumed.map((call) => call.roleArn))).toEqual(new Set([roleArn(staging), roleArn(prod)]));
    expect(assumed.every((call) => call.granted && call.callerAccountId === hubAccountId)).toBe(true);
    expect(new Set(assumed.map((call) => call.sessionName))).toEqual(new Set([roleSessionName(report.executionName), roleSessionName(sweeperSession)]));
  });

  it('sequencer run says where each pipeline elsewhere started: account, region and its own name', async () => {
    // Act
    const { code, stdout } = await warmSequencer(['run', '--world', 'local/worlds/accounts.json', '--input', JSON.stringify(input)]);

    // Assess
    expect(code).toBe(0);
    const started = stdout.split('\n').filter((line) => line.includes(' started ('));
    expect(started.map((line) => / (\S+) started \(.*?\)(.*), execution /.exec(line)?.slice(1))).toEqual([
      ['build', ''],
      ['deploy-staging', ` in account ${staging}, eu-west-1, pipeline deploy-api`],
      ['deploy-prod-us', ` in account ${prod}, us-east-1, pipeline deploy-api`],
      ['deploy-prod-eu', ` in account ${prod}, eu-west-1, pipeline deploy-api`],
    ]);
  });

  it("an order naming a pipeline elsewhere by its CodePipeline name is told the stage's names for it, and --order's hint is --order's", async () => {
    const { code, stderr } = await warmSequencer(['run', '--world', 'local/worlds/accounts.json', '--order', 'build,deploy-api']);

    expect(code).toBe(2);
    expect(stderr).toContain(
      `"deploy-api" is the CodePipeline name of deploy-staging (account ${staging}, eu-west-1), deploy-prod-us (account ${prod}, us-east-1), deploy-prod-eu (account ${prod}, eu-west-1): an order names a pipeline elsewhere by the stage's name for it; add it to the world, or give --order with the world's pipelines`,
    );
  });

  it('assumes each role once per invocation, not once per call: the prod group shares one AssumeRole per look', async () => {
    // Prepare
    const theWorld = await loadWorld('local/worlds/accounts.json');

    // Act
    const { report, calls, assumed } = await run(theWorld, input);

    // Assess: every prod call was signed by credentials of a prod AssumeRole, each of which was
    // used, and the group's start (one invocation, two regions) signed both starts with one.
    expect(report.status).toBe('SUCCEEDED');
    const prodCalls = callsBy(calls, prod);
    const prodRoles = assumed.filter((call) => call.roleArn === roleArn(prod));
    expect(new Set(prodCalls.map((call) => call.accessKeyId))).toEqual(new Set(prodRoles.map((call) => call.accessKeyId)));
    expect(prodRoles.length).toBeLessThan(prodCalls.length);
    const groupStarts = prodCalls.filter((call) => call.operation === 'StartPipelineExecution');
    expect(groupStarts.map((call) => call.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(new Set(groupStarts.map((call) => call.accessKeyId)).size).toBe(1);
  });
});

describe('the same pipeline name in two accounts', () => {
  const twins = (hubOutcome: 'Succeeded' | 'Failed' = 'Succeeded') =>
    parseWorld(
      {
        startTime,
        pipelines: [
          {
            name: 'deploy-api',
            outcome: hubOutcome,
            stages: [
              { name: 'Source', durationSeconds: 30, actions: [{ name: 'Source' }] },
              { name: 'Deploy', durationSeconds: 300, actions: [{ name: 'Deploy', namespace: 'DeployVariables', outputVariables: { WHERE: 'hub' } }] },
            ],
          },
        ],
        accounts: [
          {
            id: staging,
            role: { name: 'pipeline-sequencer-target' },
            regions: {
              [hubRegion]: [
                {
                  name: 'deploy-api',
                  sequencedAs: 'deploy-api-staging',
                  variables: [{ name: 'FROM_HUB' }],
                  stages: [
                    { name: 'Source', durationSeconds: 30, actions: [{ name: 'Source' }] },
                    { name: 'Deploy', durationSeconds: 400, actions: [{ name: 'Deploy', namespace: 'DeployVariables', outputVariables: { WHERE: 'staging' } }] },
                  ],
                },
              ],
            },
          },
        ],
      },
      'twins',
    );

  it('runs each in its own account, even in the same region, and never mixes their executions, tokens or outputs', async () => {
    // Prepare
    const theWorld = twins();

    // Act
    const { report, calls } = await run(theWorld, {
      order: ['deploy-api', 'deploy-api-staging'],
      variables: { 'deploy-api-staging': { FROM_HUB: '#{deploy-api.DeployVariables.WHERE}' } },
    });

    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const [hub, other] = ours(report);
    expect([hub!.pipelineName, hub!.location]).toEqual(['deploy-api', undefined]);
    expect(other).toMatchObject({ pipelineName: 'deploy-api-staging', location: { accountId: staging, region: hubRegion, pipelineName: 'deploy-api' } });
    expect(other!.variables).toEqual({ FROM_HUB: 'hub' });
    expect(hub!.pipelineExecutionId).not.toBe(other!.pipelineExecutionId);
    expect(hub!.clientRequestToken).not.toBe(other!.clientRequestToken);
    expectEachCallInItsOwnAccount(theWorld, calls);
    // Both accounts were asked about 'deploy-api' in us-east-1, each with its own keys only.
    expect(callsBy(calls, hubAccountId).filter((call) => call.operation === 'StartPipelineExecution')).toHaveLength(1);
    expect(callsBy(calls, staging).filter((call) => call.operation === 'StartPipelineExecution')).toHaveLength(1);
    const rows = (report.output as { pipelines: { pipelineName: string; pipelineExecutionId: string }[] }).pipelines;
    expect(rows.map((row) => [row.pipelineName, row.pipelineExecutionId])).toEqual([
      ['deploy-api', hub!.pipelineExecutionId],
      ['deploy-api-staging', other!.pipelineExecutionId],
    ]);
  });
});

describe('reaching another account is proven before anything starts', () => {
  const distrusting = (trusts: string[]) =>
    parseWorld(
      {
        startTime,
        pipelines: [{ name: 'build', durationSeconds: 300 }],
        accounts: [
          { id: staging, role: { name: 'pipeline-sequencer-target', trusts }, regions: { 'eu-west-1': [{ name: 'deploy-api', sequencedAs: 'deploy-staging', durationSeconds: 300 }] } },
        ],
      },
      'distrusting',
    );

  it('refuses the run with PipelineAccessDenied, naming account, region, role and pipeline, when the role does not trust the hub', async () => {
    // Prepare
    const theWorld = distrusting(['999988887777']);

    // Act
    const { report, calls, assumed } = await run(theWorld, { order: ['build', 'deploy-staging'] });

    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('PipelineAccessDenied');
    for (const part of [staging, 'eu-west-1', roleArn(staging), 'GetPipeline deploy-staging:', "'deploy-api'", 'AccessDenied']) expect(report.cause).toContain(part);
    expect(report.world.executions).toEqual([]);
    expect(calls.filter((call) => call.operation === 'StartPipelineExecution')).toEqual([]);
    expect(assumed).toEqual([{ callerAccountId: hubAccountId, roleArn: roleArn(staging), sessionName: roleSessionName(report.executionName), granted: false }]);
  });

  it('refuses a pipeline the target account does not have with PipelineNotFound, naming account and region, nothing started', async () => {
    // Prepare: the stage names a pipeline the role reaches but the account lacks.
    const theWorld = distrusting([hubAccountId]);
    const settings: Partial<StageConfig> = {
      pipelines: [
        'build',
        { name: 'deploy-staging', arn: `arn:aws:codepipeline:eu-west-1:${staging}:deploy-api` },
        { name: 'ghost', arn: `arn:aws:codepipeline:eu-west-1:${staging}:ghost-api` },
      ],
      accounts: { [staging]: { roleArn: roleArn(staging) } },
    };

    // Act
    const { report } = await run(theWorld, { order: ['build', 'deploy-staging', 'ghost'] }, { settings });

    // Assess
    expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineNotFound' });
    for (const part of ["'ghost-api'", `account ${staging}`, 'region eu-west-1']) expect(report.cause).toContain(part);
    expect(report.world.executions).toEqual([]);
  });
});

describe('run --stage rehearses the stage as deployed: its own ARNs and roles, answered by the world', () => {
  // A copy of the service whose stage `xa` lists the shipped accounts world's pipelines, with `arn` and `roleArn` as given.
  const stageWith = (deployStaging: string, stagingRole: string) => {
    const service = copyOfService('.', ['bin', 'local']);
    const config = join(service, 'serverless.yml');
    const stage = [
      '  xa:',
      '    pipelines:',
      '      - build',
      `      - { name: deploy-staging, arn: "${deployStaging}" }`,
      `      - { name: deploy-prod-us, arn: "arn:aws:codepipeline:us-east-1:${prod}:deploy-api" }`,
      `      - { name: deploy-prod-eu, arn: "arn:aws:codepipeline:eu-west-1:${prod}:deploy-api" }`,
      '    accounts:',
      `      "${staging}": { roleArn: "${stagingRole}" }`,
      `      "${prod}": { roleArn: "${roleArn(prod)}" }`,
      '    sequences: { ship: [build, deploy-staging] }',
      '    defaultSequence: ship',
      '    scheduleInput: { sequence: ship }',
      '',
    ].join('\n');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^ {2}dev:$/m, `${stage}  dev:`));
    return service;
  };
  const runIn = (service: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const args = ['run', '--stage', 'xa', '--world', 'local/worlds/accounts.json', '--input', JSON.stringify(accountsTrainInput)];
      execFile('node', [join(service, 'bin/sequencer.js'), ...args], { cwd: service, env: cleanEnv() }, (error, stdout, stderr) => resolve({ code: exitCode(error), stdout, stderr }));
    });
  const stagingArn = `arn:aws:codepipeline:eu-west-1:${staging}:deploy-api`;

  it.each([
    ['an ARN naming a pipeline the account does not have', `arn:aws:codepipeline:eu-west-1:${staging}:deploy-api-typo`, roleArn(staging), 'PipelineNotFound', "'deploy-api-typo'"],
    ['an ARN in a region the pipeline is not in', `arn:aws:codepipeline:us-west-2:${staging}:deploy-api`, roleArn(staging), 'PipelineNotFound', 'region us-west-2'],
    ['a role the account does not have', stagingArn, `arn:aws:iam::${staging}:role/typo-role`, 'PipelineAccessDenied', `arn:aws:iam::${staging}:role/typo-role`],
  ])('refuses %s as AWS would, before anything starts (the world has the right one)', async (_, arn, role, error, named) => {
    const service = stageWith(arn, role);

    const { code, stdout, stderr } = await runIn(service);
    rmSync(service, { recursive: true, force: true });

    expect(code).toBe(3);
    expect(stderr).toContain(`sequencer: FAILED  ${error}: `);
    expect(stderr).toContain(named);
    expect(stdout).not.toContain(' started (');
  });

  it('runs the stage as written, each start line saying where its entry puts it', async () => {
    const service = stageWith(stagingArn, roleArn(staging));

    const { code, stdout } = await runIn(service);
    rmSync(service, { recursive: true, force: true });

    expect(code).toBe(0);
    expect(stdout).toContain(`deploy-staging started (2 of 3) in account ${staging}, eu-west-1, pipeline deploy-api`);
  });
});

describe('redrive and continuation across accounts', () => {
  it('redrive restarts the failed pipeline in its own account, once, with a new token, under the same role', async () => {
    // Prepare
    const theWorld = parseWorld(
      {
        startTime,
        pipelines: [{ name: 'build', durationSeconds: 300 }],
        accounts: [
          {
            id: prod,
            role: { name: 'pipeline-sequencer-target' },
            regions: { 'eu-west-1': [{ name: 'deploy-api', sequencedAs: 'deploy-prod', durationSeconds: 600, outcomes: ['Failed', 'Succeeded'] }] },
          },
        ],
      },
      'redrive',
    );

    // Act
    const { report, calls, assumed } = await run(theWorld, { order: ['build', 'deploy-prod'] }, { redrive: true });

    // Assess
    expect(report).toMatchObject({ status: 'SUCCEEDED', redrives: 1 });
    const started = ours(report);
    expect(started.map((execution) => [execution.pipelineName, execution.status, execution.location?.accountId])).toEqual([
      ['build', 'Succeeded', undefined],
      ['deploy-prod', 'Failed', prod],
      ['deploy-prod', 'Succeeded', prod],
    ]);
    expect(started[1]!.clientRequestToken).not.toBe(started[2]!.clientRequestToken);
    expectEachCallInItsOwnAccount(theWorld, calls);
    expect(assumed.every((call) => call.granted && call.roleArn === roleArn(prod))).toBe(true);
    // The failure that was redriven says where the pipeline is: which account's console to open.
    expect(report.earlierAttempts![0]!.cause).toContain(`deploy-prod (position 2 of 2) execution ${started[1]!.pipelineExecutionId} in account ${prod}, eu-west-1 (pipeline deploy-api) ended Failed`);
  });

  it('continued executions watch a 2-day pipeline in another account through the role, each in its own session name', async () => {
    // Prepare: 2 days of looks (about 1,340 history events a day) pass a 1,000-event handover
    // (the stage's continueAtEvents; 24,000 by default) twice.
    const theWorld = parseWorld(
      {
        startTime,
        pipelines: [],
        accounts: [
          {
            id: staging,
            role: { name: 'pipeline-sequencer-target' },
            regions: { 'eu-west-1': [{ name: 'approve-release', sequencedAs: 'approval', durationSeconds: 2 * day }] },
          },
        ],
      },
      'continuation',
    );

    // Act: polled, as only polling makes a long wait continue as new (an event-woken wait costs a handful of events).
    const { report, calls, assumed } = await run(theWorld, { order: ['approval'], pipelineTimeoutSeconds: 3 * day }, { settings: { completion: 'poll', continueAtEvents: 1_000 } });

    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.generations.length).toBeGreaterThan(2);
    expect(ours(report).map((execution) => [execution.pipelineName, execution.status])).toEqual([['approval', 'Succeeded']]);
    expectEachCallInItsOwnAccount(theWorld, calls);
    const sessions = new Set(assumed.map((call) => call.sessionName));
    for (const generation of report.generations) expect(sessions).toContain(roleSessionName(generation.executionName));
  }, 180_000);
});
