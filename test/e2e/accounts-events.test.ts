import { callbackResumeSeconds, closeLocalEngine, LocalEngine, type RunEvent, type RunReport } from '../../local/engine.js';
import { pipelineEvent } from '../../local/pipeline-events.js';
import { hubAccountId, loadWorld, parseWorld, type World } from '../../local/world.js';
import type { PipelineResult } from '../../src/run.js';
import { accountsTrainInput, noticedByEvent, startTime } from './support.js';

/*
 * completion: events across accounts, end to end in the local engine: the emulator's CodePipeline
 * of each account and region feeds the hub's bus only when that account forwards its events, each
 * event shaped as AWS forwards it (the pipeline's own account, region and CodePipeline name), and
 * the real event function and sweeper find each end's run by where the pipeline is.
 */

afterAll(closeLocalEngine);

const staging = '222233334444';
const prod = '333344445555';
const sweepSeconds = 60;

async function runEvents(theWorld: World, input: unknown) {
  const engine = await LocalEngine.create({ world: theWorld, settings: { completion: 'events', sweepSeconds } });
  const events: RunEvent[] = [];
  const report = await engine.run({ input, onEvent: (event) => events.push(event) });
  return { engine, report, events };
}

const results = (report: RunReport) => (report.output as { pipelines: PipelineResult[] }).pipelines;
const detection = (result: PipelineResult) => (Date.parse(result.detectedAt!) - Date.parse(result.finishedAt!)) / 1000;
const detectedBy = (report: RunReport) => Object.fromEntries(results(report).map((result) => [result.pipelineName, result.detectedBy]));

/** `deploy-api` in two accounts (and, where asked, in the hub), each a stage pipeline of its own name. */
function namesakes(options: { prodForwards: boolean; hubNamesake?: boolean }): World {
  const deployApi = (sequencedAs: string, durationSeconds: number) => ({ name: 'deploy-api', sequencedAs, durationSeconds });
  return parseWorld(
    {
      startTime,
      pipelines: [{ name: 'build', durationSeconds: 300 }, ...(options.hubNamesake ? [{ name: 'deploy-api', durationSeconds: 420 }] : [])],
      accounts: [
        { id: staging, role: { name: 'pipeline-sequencer-target' }, forwardsEvents: true, regions: { 'eu-west-1': [deployApi('deploy-staging', 610)] } },
        { id: prod, role: { name: 'pipeline-sequencer-target' }, forwardsEvents: options.prodForwards, regions: { 'eu-west-1': [deployApi('deploy-prod', 1510)] } },
      ],
    },
    'namesakes world',
  );
}

describe('completion: events, pipelines in other accounts', () => {
  it('a forwarding account’s pipeline end wakes the run by its event, within the delivery delay', async () => {
    const { report, engine } = await runEvents(namesakes({ prodForwards: true }), { order: ['build', 'deploy-staging'] });

    expect(report.status).toBe('SUCCEEDED');
    expect(detectedBy(report)).toEqual({ build: 'event', 'deploy-staging': 'event' });
    for (const result of results(report)) expect(detection(result)).toBeLessThanOrEqual(noticedByEvent.most);
    // The event the hub's bus got is the target account's, as its forwarding rule sends it on.
    const end = engine.bus!.records.find((record) => record.change.accountId === staging && record.change.state === 'SUCCEEDED')!;
    expect(end).toMatchObject({ fate: 'delivered', change: { region: 'eu-west-1', pipelineName: 'deploy-api' } });
    expect(end.deliveredAt).toHaveLength(1);
  });

  it('an account that forwards nothing emits nothing to the hub: the sweeper notices its end within one sweep interval', async () => {
    const { report, engine } = await runEvents(namesakes({ prodForwards: false }), { order: ['build', 'deploy-prod'] });

    expect(report.status).toBe('SUCCEEDED');
    expect(detectedBy(report)).toEqual({ build: 'event', 'deploy-prod': 'sweep' });
    const prodResult = results(report).find((result) => result.pipelineName === 'deploy-prod')!;
    expect(detection(prodResult)).toBeGreaterThan(0);
    expect(detection(prodResult)).toBeLessThanOrEqual(sweepSeconds + callbackResumeSeconds);
    const prodRecords = engine.bus!.records.filter((record) => record.change.accountId === prod);
    expect(prodRecords.length).toBeGreaterThan(0);
    expect(prodRecords.every((record) => record.fate === 'unforwarded' && record.deliveredAt.length === 0)).toBe(true);
  });

  it('the same CodePipeline name in the hub and two accounts: each end wakes the run once, for its own pipeline', async () => {
    const { report, events } = await runEvents(namesakes({ prodForwards: true, hubNamesake: true }), {
      order: [['deploy-api', 'deploy-staging', 'deploy-prod']],
    });

    expect(report.status).toBe('SUCCEEDED');
    expect(detectedBy(report)).toEqual({ 'deploy-api': 'event', 'deploy-staging': 'event', 'deploy-prod': 'event' });
    for (const result of results(report)) {
      // Noticed after its own end, never earlier (a namesake's end would have been taken for it).
      expect(detection(result)).toBeGreaterThanOrEqual(noticedByEvent.least);
      expect(detection(result)).toBeLessThanOrEqual(noticedByEvent.most);
    }
    // One look per end: no namesake's event woke the run for nothing.
    expect(events.filter((event) => event.type === 'checked')).toHaveLength(3);
  });

  it('runs the shipped accounts world: the hub and the forwarding account by event, the account that forwards nothing by sweep', async () => {
    const theWorld = await loadWorld('local/worlds/accounts.json');
    const input = accountsTrainInput;

    const { report } = await runEvents(theWorld, input);

    expect(report.status).toBe('SUCCEEDED');
    expect(detectedBy(report)).toEqual({ build: 'event', 'deploy-staging': 'event', 'deploy-prod-us': 'sweep', 'deploy-prod-eu': 'sweep' });
    for (const result of results(report)) expect(detection(result)).toBeLessThanOrEqual(sweepSeconds + callbackResumeSeconds);
  });
});

describe('the local bus’s event for a pipeline elsewhere', () => {
  it('carries the pipeline’s own account, region and CodePipeline name, as a forwarding rule delivers it', () => {
    const at = Date.parse(startTime);
    const event = pipelineEvent(
      { accountId: prod, region: 'eu-west-1', pipelineName: 'deploy-api', pipelineExecutionId: 'exec-1', state: 'SUCCEEDED', at, startedAt: at },
      'id-1',
    );

    expect(event).toMatchObject({
      account: prod,
      region: 'eu-west-1',
      resources: [`arn:aws:codepipeline:eu-west-1:${prod}:deploy-api`],
      detail: { pipeline: 'deploy-api', 'execution-id': 'exec-1', state: 'SUCCEEDED' },
    });
    expect(event.account).not.toBe(hubAccountId);
  });
});
