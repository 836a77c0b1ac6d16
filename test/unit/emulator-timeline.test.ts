import {
  CodePipelineClient,
  DuplicatedStopRequestException,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionNotStoppableException,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { SimulatedClock } from '../../local/clock.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { parseWorld } from '../../local/world.js';
import { rejectionOf } from '../support/rejection.js';

const startTime = '2026-01-01T00:00:00Z';

/** An ISO instant this many seconds after the world's startTime. */
function at(secondsAfterStart: number): string {
  return new Date(Date.parse(startTime) + secondsAfterStart * 1000).toISOString();
}

interface Harness {
  emulator: Emulator;
  clock: SimulatedClock;
  codePipeline: CodePipelineClient;
}

/** A fresh emulator on a simulated clock for every test of the enclosing describe. */
function useWorld(pipelines: Record<string, unknown>[]): Harness {
  const harness = {} as Harness;
  beforeEach(async () => {
    const world = parseWorld({ startTime, pipelines }, 'timeline test world');
    harness.clock = new SimulatedClock(Date.parse(startTime));
    harness.emulator = await startEmulator({ world, clock: harness.clock });
    harness.codePipeline = new CodePipelineClient({
      endpoint: harness.emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    harness.codePipeline.destroy();
    await harness.emulator.close();
  });
  return harness;
}

async function start(harness: Harness, pipelineName: string): Promise<string> {
  const { pipelineExecutionId } = await harness.codePipeline.send(
    new StartPipelineExecutionCommand({ name: pipelineName }),
  );
  return pipelineExecutionId!;
}

async function statusOf(harness: Harness, pipelineName: string, pipelineExecutionId: string) {
  const { pipelineExecution } = await harness.codePipeline.send(
    new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }),
  );
  return { status: pipelineExecution?.status, statusSummary: pipelineExecution?.statusSummary };
}

async function summaries(harness: Harness, pipelineName: string): Promise<PipelineExecutionSummary[]> {
  const { pipelineExecutionSummaries } = await harness.codePipeline.send(
    new ListPipelineExecutionsCommand({ pipelineName }),
  );
  return pipelineExecutionSummaries ?? [];
}

describe('an execution’s status follows the simulated clock', () => {
  const local = useWorld([
    { name: 'Passes', durationSeconds: 600 },
    { name: 'Breaks', durationSeconds: 600, outcome: 'Failed', statusSummary: 'Unit tests failed' },
    { name: 'Halts', durationSeconds: 600, outcome: 'Stopped' },
    { name: 'Redefined', durationSeconds: 600, outcome: 'Cancelled' },
    { name: 'Flaky', durationSeconds: 600, outcomes: ['Failed', 'Succeeded'], outcome: 'Cancelled' },
  ]);

  it.each([
    ['Passes', 'Succeeded', undefined],
    ['Breaks', 'Failed', 'Unit tests failed'],
    ['Halts', 'Stopped', undefined],
    ['Redefined', 'Cancelled', undefined],
  ])('%s stays InProgress for its duration, then ends %s', async (pipelineName, outcome, statusSummary) => {
    // Prepare
    const id = await start(local, pipelineName);

    // Act
    await local.clock.sleep(599);
    const justBefore = await statusOf(local, pipelineName, id);
    await local.clock.sleep(1);
    const atTheEnd = await statusOf(local, pipelineName, id);

    // Assess
    expect(justBefore).toEqual({ status: 'InProgress', statusSummary: undefined });
    expect(atTheEnd).toEqual({ status: outcome, statusSummary });
    const [summary] = await summaries(local, pipelineName);
    expect(summary?.startTime?.toISOString()).toBe(at(0));
    expect(summary?.lastUpdateTime?.toISOString()).toBe(at(600));
  });

  it('plays the scripted outcomes in start order, then falls back to outcome', async () => {
    // Act
    const ids: string[] = [];
    for (let run = 0; run < 3; run += 1) {
      ids.push(await start(local, 'Flaky'));
      await local.clock.sleep(600);
    }

    // Assess
    const statuses = await Promise.all(ids.map(async (id) => (await statusOf(local, 'Flaky', id)).status));
    expect(statuses).toEqual(['Failed', 'Succeeded', 'Cancelled']);
  });
});

describe('a pipeline whose execution is superseded by a newer source change', () => {
  // Source takes 30 s of ours (600 s), 15 s of the newer one (300 s): the same share.
  const local = useWorld([
    {
      name: 'Busy',
      durationSeconds: 600,
      outcome: 'Superseded',
      supersededBy: { durationSeconds: 300, outcome: 'Failed', statusSummary: 'Deploy failed' },
    },
  ]);

  it('supersedes ours only at the stage boundary, when the newer execution reaches it', async () => {
    // Prepare
    const ours = await start(local, 'Busy');
    await local.clock.sleep(44);
    const waiting = await summaries(local, 'Busy');
    const { stageStates } = await local.codePipeline.send(new GetPipelineStateCommand({ name: 'Busy' }));

    // Act
    await local.clock.sleep(1);
    const after = await summaries(local, 'Busy');

    // Assess
    expect(waiting.map((summary) => [summary.status, summary.trigger?.triggerType])).toEqual([
      ['InProgress', 'CloudWatchEvent'],
      ['InProgress', 'StartPipelineExecution'],
    ]);
    expect(waiting[0]?.startTime?.toISOString()).toBe(at(30));
    expect(stageStates?.[1]).toMatchObject({
      stageName: 'Build',
      inboundTransitionState: { enabled: false },
      inboundExecutions: [{ pipelineExecutionId: ours, status: 'InProgress' }],
    });
    expect(stageStates?.[0]?.latestExecution).toMatchObject({ pipelineExecutionId: waiting[0]?.pipelineExecutionId, status: 'InProgress' });
    expect(after.map((summary) => summary.status)).toEqual(['InProgress', 'Superseded']);
    expect(after[1]?.lastUpdateTime?.toISOString()).toBe(at(45));
    expect(await statusOf(local, 'Busy', ours)).toEqual({ status: 'Superseded', statusSummary: undefined });
  });

  it('places the newer execution where ours waited even when nobody looked in between', async () => {
    // Prepare
    await start(local, 'Busy');

    // Act
    await local.clock.sleep(2000);

    // Assess
    expect(local.emulator.executions()).toMatchObject([
      { status: 'Superseded', startedBy: 'sequencer', startedAt: at(0), finishedAt: at(45) },
      { status: 'Failed', statusSummary: 'Deploy failed', startedBy: 'world', startedAt: at(30), finishedAt: at(330) },
    ]);
  });

  it('never brings the newer execution if ours was stopped before it reached the boundary', async () => {
    // Prepare
    const ours = await start(local, 'Busy');
    await local.clock.sleep(10);

    // Act
    await local.codePipeline.send(
      new StopPipelineExecutionCommand({ pipelineName: 'Busy', pipelineExecutionId: ours, abandon: true }),
    );
    await local.clock.sleep(2000);

    // Assess
    expect(local.emulator.executions().map((execution) => execution.status)).toEqual(['Stopped']);
  });
});

describe('an execution already InProgress at startTime', () => {
  // Theirs runs 180 s (60 before startTime, 120 after): its Source stage ends at -51 s, its Build at 120 s.
  // Ours runs 600 s: Source 30 s, Build 570 s.
  const local = useWorld([
    { name: 'Superseding', durationSeconds: 600, inProgressAtStart: { remainingSeconds: 120 } },
    { name: 'Queued', durationSeconds: 600, executionMode: 'QUEUED', inProgressAtStart: { remainingSeconds: 120 } },
    { name: 'Parallel', durationSeconds: 600, executionMode: 'PARALLEL', inProgressAtStart: { remainingSeconds: 120 } },
  ]);

  it('is listed from the start as someone else’s', async () => {
    // Act
    const [running] = await summaries(local, 'Queued');

    // Assess
    expect(running).toMatchObject({ status: 'InProgress', trigger: { triggerType: 'CloudWatchEvent' } });
    expect(running?.startTime?.toISOString()).toBe(at(-60));
    expect(local.emulator.executions()).toHaveLength(3);
    expect(local.emulator.executions().every((execution) => execution.startedBy === 'world')).toBe(true);
  });

  it.each(['Superseding', 'Queued'])(
    'in %s mode: ours waits in front of the stage theirs holds, and neither is superseded',
    async (pipelineName) => {
      // Prepare
      await local.clock.sleep(10);

      // Act
      const ours = await start(local, pipelineName);
      await local.clock.sleep(110);
      const theirsDone = await summaries(local, pipelineName);
      await local.clock.sleep(569);
      const oneSecondShort = await statusOf(local, pipelineName, ours);
      await local.clock.sleep(1);

      // Assess
      const [newest, older] = await summaries(local, pipelineName);
      expect(theirsDone.map((summary) => summary.status)).toEqual(['InProgress', 'Succeeded']);
      expect(oneSecondShort.status).toBe('InProgress');
      expect(newest).toMatchObject({ pipelineExecutionId: ours, status: 'Succeeded' });
      expect(newest?.lastUpdateTime?.toISOString()).toBe(at(690));
      expect(older?.status).toBe('Succeeded');
      expect(older?.lastUpdateTime?.toISOString()).toBe(at(120));
    },
  );

  it('in SUPERSEDED mode: a newer start supersedes ours while ours waits, and the newer one goes on', async () => {
    // Prepare
    const ours = await start(local, 'Superseding');
    await local.clock.sleep(20);

    // Act
    const newer = await start(local, 'Superseding');
    await local.clock.sleep(39);
    const beforeNewerReachesBuild = await statusOf(local, 'Superseding', ours);
    await local.clock.sleep(1);
    const superseded = await statusOf(local, 'Superseding', ours);
    await local.clock.sleep(1000);

    // Assess: ours leaves Source at 30 s and waits for Build; the newer one runs Source 30-60 s.
    expect(beforeNewerReachesBuild.status).toBe('InProgress');
    expect(superseded.status).toBe('Superseded');
    expect(await statusOf(local, 'Superseding', newer)).toMatchObject({ status: 'Succeeded' });
  });

  it('in QUEUED mode: the same two starts both run, one after the other, stage by stage', async () => {
    // Prepare
    const first = await start(local, 'Queued');
    await local.clock.sleep(20);

    // Act
    const second = await start(local, 'Queued');
    await local.clock.sleep(2000);

    // Assess: Build runs theirs to 120 s, the first to 690 s, the second to 1260 s.
    const statuses = await summaries(local, 'Queued');
    expect(statuses.map((summary) => [summary.pipelineExecutionId, summary.status, summary.lastUpdateTime?.toISOString()])).toEqual([
      [second, 'Succeeded', at(1260)],
      [first, 'Succeeded', at(690)],
      [expect.any(String), 'Succeeded', at(120)],
    ]);
  });

  it('in PARALLEL mode lets both run independently', async () => {
    // Prepare
    const ours = await start(local, 'Parallel');

    // Act
    await local.clock.sleep(120);
    const olderDone = await summaries(local, 'Parallel');
    await local.clock.sleep(480);

    // Assess
    expect(olderDone.map((summary) => summary.status)).toEqual(['InProgress', 'Succeeded']);
    expect(await statusOf(local, 'Parallel', ours)).toMatchObject({ status: 'Succeeded' });
  });
});

describe('ListPipelineExecutions', () => {
  const local = useWorld([{ name: 'Known', durationSeconds: 60, history: [600, 640, 580] }]);

  it('serves history as past successes, newest first, ending before startTime without overlapping', async () => {
    // Act
    const history = await summaries(local, 'Known');

    // Assess
    expect(history.map((summary) => summary.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    const spans = history.map((summary) => ({
      seconds: (summary.lastUpdateTime!.getTime() - summary.startTime!.getTime()) / 1000,
      startTime: summary.startTime!.getTime(),
      lastUpdateTime: summary.lastUpdateTime!.getTime(),
    }));
    expect(spans.map((span) => span.seconds)).toEqual([600, 640, 580]);
    expect(spans[0]!.lastUpdateTime).toBeLessThan(Date.parse(startTime));
    expect(spans[1]!.lastUpdateTime).toBeLessThan(spans[0]!.startTime);
    expect(spans[2]!.lastUpdateTime).toBeLessThan(spans[1]!.startTime);
    expect(local.emulator.executions()).toEqual([]);
  });

  it('lists newest first and pages without losing or repeating an execution when a new one starts', async () => {
    // Prepare
    const ours: string[] = [];
    for (let run = 0; run < 2; run += 1) {
      ours.push(await start(local, 'Known'));
      await local.clock.sleep(60);
    }
    const everything = (await summaries(local, 'Known')).map((summary) => summary.pipelineExecutionId);

    // Act
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await local.codePipeline.send(
        new ListPipelineExecutionsCommand({ pipelineName: 'Known', maxResults: 2, nextToken }),
      );
      pages.push((page.pipelineExecutionSummaries ?? []).map((summary) => summary.pipelineExecutionId!));
      nextToken = page.nextToken;
      if (pages.length === 1) await start(local, 'Known');
    } while (nextToken !== undefined);

    // Assess
    expect(everything.slice(0, 2)).toEqual([ours[1], ours[0]]);
    expect(everything).toHaveLength(5);
    expect(pages).toEqual([everything.slice(0, 2), everything.slice(2, 4), everything.slice(4)]);
  });
});

describe('StopPipelineExecution', () => {
  const local = useWorld([{ name: 'Long', durationSeconds: 3600 }]);

  const stop = (pipelineExecutionId: string, options: { abandon?: boolean; reason?: string } = {}) =>
    local.codePipeline.send(
      new StopPipelineExecutionCommand({ pipelineName: 'Long', pipelineExecutionId, ...options }),
    );

  it('moves a running execution through Stopping to Stopped and records the reason', async () => {
    // Prepare
    const id = await start(local, 'Long');
    await local.clock.sleep(100);

    // Act
    const answer = await stop(id, { reason: 'Sequence cancelled' });
    const stopping = await summaries(local, 'Long');
    await local.clock.sleep(30);
    const stopped = await summaries(local, 'Long');

    // Assess
    expect(answer.pipelineExecutionId).toBe(id);
    expect(stopping[0]).toMatchObject({ status: 'Stopping', stopTrigger: { reason: 'Sequence cancelled' } });
    expect(stopped[0]).toMatchObject({ status: 'Stopped', stopTrigger: { reason: 'Sequence cancelled' } });
    expect(stopped[0]?.lastUpdateTime?.toISOString()).toBe(at(130));
  });

  it('stops sooner when in-progress actions are abandoned', async () => {
    // Prepare
    const id = await start(local, 'Long');

    // Act
    await stop(id, { abandon: true });
    await local.clock.sleep(5);

    // Assess
    expect(await statusOf(local, 'Long', id)).toMatchObject({ status: 'Stopped' });
  });

  it('accepts abandoning a stop that was waiting, but not the same stop twice', async () => {
    // Prepare
    const id = await start(local, 'Long');
    await stop(id);

    // Act
    const repeated = await rejectionOf(stop(id));
    await stop(id, { abandon: true });
    const repeatedAbandon = await rejectionOf(stop(id, { abandon: true }));

    // Assess
    expect(repeated).toBeInstanceOf(DuplicatedStopRequestException);
    expect(repeatedAbandon).toBeInstanceOf(DuplicatedStopRequestException);
  });

  it('refuses to stop an execution that has finished', async () => {
    // Prepare
    const id = await start(local, 'Long');
    await local.clock.sleep(3600);

    // Act
    const error = await rejectionOf(stop(id));

    // Assess
    expect(error).toBeInstanceOf(PipelineExecutionNotStoppableException);
    expect(await statusOf(local, 'Long', id)).toMatchObject({ status: 'Succeeded' });
  });
});

describe('GetPipelineState', () => {
  const local = useWorld([{ name: 'Staged', durationSeconds: 60, history: [50] }]);

  it('shows each stage with the execution that entered it last, and its actions', async () => {
    // Prepare
    const id = await start(local, 'Staged');

    // Act
    const { stageStates } = await local.codePipeline.send(new GetPipelineStateCommand({ name: 'Staged' }));

    // Assess
    expect(stageStates?.map((stage) => [stage.stageName, stage.latestExecution?.status])).toEqual([
      ['Source', 'InProgress'],
      ['Build', 'Succeeded'],
    ]);
    expect(stageStates?.[0]).toMatchObject({
      latestExecution: { pipelineExecutionId: id, type: 'STANDARD' },
      inboundTransitionState: { enabled: true },
      actionStates: [{ actionName: 'Source', latestExecution: { status: 'InProgress' } }],
    });
    expect(stageStates?.[1]?.latestExecution?.pipelineExecutionId).not.toBe(id);
  });
});
