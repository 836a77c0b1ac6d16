import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorldFileError } from '../../local/refusals.js';
import { handlerFaults, loadWorld, operationFaults, parseWorld } from '../../local/world.js';

const minimalPipeline = { name: 'P1', durationSeconds: 600 };
const stage = (name: string, durationSeconds: number) => ({ name, durationSeconds, actions: [{ name }] });

function worldWith(overrides: Record<string, unknown>): Record<string, unknown> {
  return { startTime: '2026-01-01T00:00:00Z', pipelines: [minimalPipeline], ...overrides };
}

function refusal(json: unknown): WorldFileError {
  try {
    parseWorld(json, 'worlds/broken.json');
  } catch (error) {
    if (error instanceof WorldFileError) return error;
    throw error;
  }
  throw new Error('parseWorld accepted a world it should refuse');
}

describe('parseWorld', () => {
  it('fills in the documented defaults', () => {
    // Act
    const world = parseWorld(worldWith({}), 'worlds/minimal.json');

    // Assess
    expect(world).toEqual({
      startTime: '2026-01-01T00:00:00Z',
      pipelines: [
        {
          name: 'P1',
          durationSeconds: 600,
          outcome: 'Succeeded',
          executionMode: 'SUPERSEDED',
          pipelineType: 'V2',
          history: [],
        },
      ],
      faults: [],
      events: { delaySeconds: [0.5, 1.5], duplicate: 0, outOfOrder: 0, off: false },
    });
  });

  it('takes a pipeline with stages and declared variables as the issue shows it, its duration the stages’ sum', () => {
    // Act
    const { pipelines } = parseWorld(
      worldWith({
        pipelines: [
          {
            name: 'P1',
            pipelineType: 'V2',
            variables: [{ name: 'ENV', defaultValue: 'dev' }],
            stages: [
              { name: 'Source', durationSeconds: 30, actions: [{ name: 'Source', namespace: 'SourceVariables', outputVariables: { CommitId: '9f1c2e7' } }] },
              { name: 'Build', durationSeconds: 570, actions: [{ name: 'Build', namespace: 'BuildVariables', outputVariables: { IMAGE_TAG: '1.4.2' } }] },
            ],
          },
        ],
      }),
      'stages world',
    );

    // Assess
    expect(pipelines[0]).toMatchObject({ durationSeconds: 600, variables: [{ name: 'ENV', defaultValue: 'dev' }] });
    expect(pipelines[0]?.stages?.map((declared) => declared.name)).toEqual(['Source', 'Build']);
  });

  it('splits faults into the ones the emulator answers and the ones the runner injects', () => {
    // Prepare
    const throttle = { operation: 'GetPipelineExecution', error: 'ThrottlingException', count: 3 };
    const crash = { handler: 'start-pipeline', crash: 'afterCall', count: 1 };

    // Act
    const world = parseWorld(worldWith({ faults: [throttle, crash] }), 'worlds/faults.json');

    // Assess
    expect(operationFaults(world)).toEqual([throttle]);
    expect(handlerFaults(world)).toEqual([crash]);
  });

  it.each([
    ['an unknown top-level field', worldWith({ clock: 'fast' }), 'clock: unknown field'],
    [
      'an unknown pipeline field',
      worldWith({ pipelines: [{ ...minimalPipeline, duration: 5 }] }),
      'pipelines[0].duration: unknown field',
    ],
    ['a misspelt top-level field, with the field it meant', worldWith({ evnts: {} }), 'evnts: unknown field (did you mean "events"?)'],
    [
      'a misspelt pipeline field, with the field it meant',
      worldWith({ pipelines: [{ ...minimalPipeline, histroy: [60] }] }),
      'pipelines[0].histroy: unknown field (did you mean "history"?)',
    ],
    [
      'a misspelt field deep in a pipeline, with the field it meant',
      worldWith({ pipelines: [{ name: 'P1', stages: [{ name: 'Build', durationSeconds: 5, actionz: [] }] }] }),
      'pipelines[0].stages[0].actionz: unknown field (did you mean "actions"?)',
    ],
    [
      'a misspelt event knob, with the knob it meant',
      worldWith({ events: { delaySecond: 1 } }),
      'events.delaySecond: unknown field (did you mean "delaySeconds"?)',
    ],
    [
      'an unknown field in a fault',
      worldWith({ faults: [{ handler: 'start-pipeline', crash: 'afterCall', count: 1, when: 'later' }] }),
      'faults[0].when: unknown field',
    ],
    [
      'an outcome outside the enum',
      worldWith({ pipelines: [{ ...minimalPipeline, outcome: 'Exploded' }] }),
      'pipelines[0].outcome: expected one of Succeeded | Failed | Stopped | Cancelled | Superseded',
    ],
    [
      'a Superseded outcome without supersededBy',
      worldWith({ pipelines: [{ ...minimalPipeline, outcomes: ['Superseded'] }] }),
      'pipelines[0].supersededBy: required when an outcome is Superseded',
    ],
    [
      'supersededBy with no Superseded outcome',
      worldWith({ pipelines: [{ ...minimalPipeline, supersededBy: { durationSeconds: 60 } }] }),
      'pipelines[0].supersededBy: only allowed when an outcome is Superseded',
    ],
    [
      'a retry ending in neither Succeeded nor Failed',
      worldWith({ pipelines: [{ ...minimalPipeline, outcome: 'Failed', retry: [{ afterSeconds: 60, durationSeconds: 60, outcome: 'Failed' }, { afterSeconds: 60, durationSeconds: 60, outcome: 'Stopped' }] }] }),
      'pipelines[0].retry[1].outcome: expected one of Succeeded | Failed',
    ],
    [
      'QUEUED on a V1 pipeline',
      worldWith({ pipelines: [{ ...minimalPipeline, executionMode: 'QUEUED', pipelineType: 'V1' }] }),
      'pipelines[0].executionMode: QUEUED needs pipelineType V2',
    ],
    [
      'two pipelines with one name',
      worldWith({ pipelines: [minimalPipeline, { name: 'P2', durationSeconds: 1 }, minimalPipeline] }),
      'pipelines[2].name: duplicate pipeline name "P1" (already pipelines[0])',
    ],
    [
      'a pipeline name CodePipeline would refuse',
      worldWith({ pipelines: [{ ...minimalPipeline, name: 'my pipeline' }] }),
      'pipelines[0].name: expected 1-100 characters of A-Z a-z 0-9 . @ - _',
    ],
    [
      'a fractional duration',
      worldWith({ pipelines: [minimalPipeline, { name: 'P2', durationSeconds: 1.5 }] }),
      'pipelines[1].durationSeconds: expected a positive integer',
    ],
    [
      'a rerun of a pipeline that never fails',
      worldWith({ pipelines: [{ ...minimalPipeline, rerun: { afterSeconds: 60, durationSeconds: 60 } }] }),
      'pipelines[0].rerun: only allowed when an outcome is Failed',
    ],
    [
      'a rerun and a retry of the same failure',
      worldWith({ pipelines: [{ ...minimalPipeline, outcome: 'Failed', retry: { afterSeconds: 60, durationSeconds: 60 }, rerun: { afterSeconds: 60, durationSeconds: 60 } }] }),
      'pipelines[0].rerun: not with retry: CodePipeline refuses to retry a stage a later execution ran; script one or the other',
    ],
    [
      'a SendTaskSuccess fault aimed at a pipeline',
      worldWith({ faults: [{ operation: 'SendTaskSuccess', error: 'TaskTimedOut', count: 1, pipelineName: 'P1' }] }),
      'faults[0].pipelineName: SendTaskSuccess is about no pipeline',
    ],
    ['a missing startTime', { pipelines: [] }, 'startTime: required'],
    [
      'a StartExecution fault aimed at a pipeline',
      worldWith({ faults: [{ operation: 'StartExecution', error: 'ExecutionLimitExceeded', count: 1, pipelineName: 'P1' }] }),
      'faults[0].pipelineName: StartExecution is about no pipeline',
    ],
    [
      'an error StartExecution cannot answer',
      worldWith({ faults: [{ operation: 'StartExecution', error: 'ConflictException', count: 1 }] }),
      'faults[0].error: StartExecution cannot answer ConflictException',
    ],
    [
      'a fault with neither an error nor a latency',
      worldWith({ faults: [{ operation: 'GetPipeline', count: 1 }] }),
      'faults[0].error: a fault needs an error (such as ThrottlingException), a latencyMs, or both',
    ],
    [
      'a fault aimed at a pipeline the world lacks',
      worldWith({
        faults: [{ operation: 'StartPipelineExecution', error: 'InternalFailure', count: 1, pipelineName: 'P9' }],
      }),
      'faults[0].pipelineName: no pipeline named "P9" in this world',
    ],
    [
      'a fault the operation cannot answer',
      worldWith({ faults: [{ operation: 'GetPipelineExecution', error: 'ConflictException', count: 1 }] }),
      'faults[0].error: GetPipelineExecution cannot answer ConflictException',
    ],
    [
      'variables on a V1 pipeline',
      worldWith({ pipelines: [{ ...minimalPipeline, pipelineType: 'V1', variables: [{ name: 'ENV' }] }] }),
      'pipelines[0].variables: pipeline-level variables need pipelineType V2',
    ],
    [
      'a Superseded outcome outside SUPERSEDED mode',
      worldWith({ pipelines: [{ ...minimalPipeline, executionMode: 'QUEUED', outcome: 'Superseded', supersededBy: { durationSeconds: 60 } }] }),
      'pipelines[0].outcome: Superseded needs executionMode SUPERSEDED',
    ],
    [
      'a single stage',
      worldWith({ pipelines: [{ name: 'P1', stages: [{ name: 'Build', durationSeconds: 60, actions: [{ name: 'Build' }] }] }] }),
      'pipelines[0].stages: expected at least two stages (Source first)',
    ],
    [
      'stages whose sum is not the durationSeconds given',
      worldWith({ pipelines: [{ name: 'P1', durationSeconds: 100, stages: [stage('Source', 30), stage('Build', 60)] }] }),
      "pipelines[0].durationSeconds: must equal the stages' sum (90) when both are given",
    ],
    [
      'neither stages nor durationSeconds',
      worldWith({ pipelines: [{ name: 'P1' }] }),
      'pipelines[0].durationSeconds: required unless stages are given',
    ],
    [
      'two stages with one name',
      worldWith({ pipelines: [{ name: 'P1', stages: [stage('Build', 30), stage('Build', 60)] }] }),
      'pipelines[0].stages: duplicate stage name "Build"',
    ],
    // Each of these would run, and the knob would silently never apply.
    [
      'a handler fault on a handler no run has',
      worldWith({ faults: [{ handler: 'start-pipelin', crash: 'afterCall', count: 1 }] }),
      'faults[0].handler: expected one of decide-order | start-pipeline | check-status | continue-as-new',
    ],
    ['an event state spelt as the API spells it', worldWith({ events: { drop: { states: ['Failed'] } } }), 'events.drop.states[0]: expected one of SUCCEEDED | FAILED | STOPPED'],
    ['a late state spelt wrong', worldWith({ events: { lateSeconds: { SUCCEDED: 60 } } }), 'events.lateSeconds.SUCCEDED: expected one of SUCCEEDED'],
    // The stage's rule forwards ends and RESUMED only: a STARTED event never reaches the function to be dropped.
    ['a drop of a state the rule does not forward', worldWith({ events: { drop: { states: ['STARTED'] } } }), "events.drop.states[0]: expected one of SUCCEEDED | FAILED | STOPPED | SUPERSEDED | CANCELED | RESUMED (the states the stage's rule forwards"],
    ['a state dropped twice', worldWith({ events: { drop: { states: ['FAILED', 'FAILED'] } } }), 'events.drop.states: duplicate state name "FAILED"'],
    ['a pipeline dropped twice', worldWith({ events: { drop: { pipelines: ['P1', 'P1'] } } }), 'events.drop.pipelines: duplicate pipeline name "P1"'],
    ['events off, and dropped too', worldWith({ events: { off: true, drop: { rate: 0.5 } } }), 'events.drop: off: true delivers no event, so this never applies'],
    ['events off, and duplicated too', worldWith({ events: { off: true, duplicate: 1 } }), 'events.duplicate: off: true delivers no event, so this never applies'],
    ['an empty list of outcomes', worldWith({ pipelines: [{ ...minimalPipeline, outcomes: [] }] }), 'pipelines[0].outcomes: empty: leave it out'],
    ['a delivery delay of the wrong shape', worldWith({ events: { delaySeconds: [1, 2, 3] } }), 'events.delaySeconds: expected seconds at least 0, as a number or as [min, max]'],
    // DynamoDB's TTL and Step Functions' dates count from 1970; ISO-8601's years have four digits.
    ['a start before 1970', worldWith({ startTime: '1955-01-01T00:00:00Z' }), 'startTime: expected a date-time from 1970-01-01T00:00:00Z to before 9000-01-01T00:00:00Z'],
    ['a start whose deadlines would pass year 9999', worldWith({ startTime: '9999-12-31T23:59:00Z' }), 'startTime: expected a date-time from 1970-01-01T00:00:00Z'],
    ['events dropped for a pipeline the world lacks', worldWith({ events: { drop: { pipelines: ['P9'] } } }), 'events.drop.pipelines[0]: no pipeline named "P9" in this world'],
    ['a drop that chooses no pipeline', worldWith({ events: { drop: { pipelines: [], rate: 0.5 } } }), 'events.drop.pipelines: empty: it would choose no event to drop'],
    ['a drop that chooses no state', worldWith({ events: { drop: { states: [] } } }), 'events.drop.states: empty: it would choose no event to drop'],
    ['a delivery delay whose min is above its max', worldWith({ events: { delaySeconds: [5, 1] } }), 'events.delaySeconds: expected [min, max] with min at most max'],
    [
      'a fault on an operation the emulator does not serve',
      worldWith({ faults: [{ operation: 'DeletePipeline', error: 'ThrottlingException', count: 1 }] }),
      'faults[0].operation: expected one of GetPipeline',
    ],
    [
      'a pipeline of an account named twice in one region',
      worldWith({ accounts: [{ id: '210987654321', role: { name: 'r' }, regions: { 'eu-west-1': [minimalPipeline, { ...minimalPipeline, sequencedAs: 'P1-eu' }] } }] }),
      'accounts[0].regions.eu-west-1: duplicate pipeline name "P1"',
    ],
  ])('refuses %s, naming the field and the file', (_case, json, expectedProblem) => {
    // Act
    const error = refusal(json);

    // Assess
    expect(error.name).toBe('WorldFileError');
    expect(error.message).toContain('worlds/broken.json');
    expect(error.message).toContain(expectedProblem);
  });

  it('names every problem in one refusal: the cross-checks beside the fields’ own, not once those are fixed', () => {
    // Prepare: three problems a field's type shows, and three that need the rest of the world or the operation.
    const json = worldWith({
      faults: [
        { operation: 'GetPipelineExecutio', error: 'ThrottlingException', count: 1 },
        { handler: 'start-pipelin', crash: 'afterCall', count: 1 },
        { operation: 'GetPipeline', error: 'ExecutionLimitExceeded', count: 1, pipelineName: 'P8' },
      ],
      events: { drop: { rate: 2, pipelines: ['P9'], states: ['Succeeded'] } },
    });

    // Act
    const error = refusal(json);

    // Assess
    const problems = error.message.split('\n').slice(1).map((line) => line.trim());
    expect(problems).toEqual([
      expect.stringMatching(/^faults\[0\]\.operation: expected one of GetPipeline \|/),
      expect.stringMatching(/^faults\[1\]\.handler: expected one of decide-order \|/),
      expect.stringMatching(/^events\.drop\.rate: /),
      expect.stringMatching(/^events\.drop\.states\[0\]: expected one of SUCCEEDED \| FAILED \| STOPPED/),
      'events.drop.pipelines[0]: no pipeline named "P9" in this world',
      expect.stringMatching(/^faults\[2\]\.error: GetPipeline cannot answer ExecutionLimitExceeded: expected one of PipelineNotFoundException/),
      'faults[2].pipelineName: no pipeline named "P8" in this world',
    ]);
  });

  it('leaves a field of the wrong type to the schema: one problem for it, not a cross-check’s too', () => {
    const error = refusal(worldWith({ faults: [{ operation: 'GetPipeline', error: 'no such error!', count: 1 }], events: { drop: { pipelines: [7] } } }));

    expect(error.message.split('\n').slice(1).map((line) => line.trim())).toEqual([
      'faults[0].error: expected an error name such as ThrottlingException',
      'events.drop.pipelines[0]: Invalid input: expected string, received number',
    ]);
  });
});

describe('loadWorld', () => {
  it('loads the example world shipped with the emulator', async () => {
    // Act
    const world = await loadWorld(fileURLToPath(new URL('../../local/worlds/contention.json', import.meta.url)));

    // Assess
    expect(world.pipelines.map((pipeline) => pipeline.name)).toEqual(['build-api', 'deploy-web', 'migrate-db']);
    expect(handlerFaults(world)).toEqual([{ handler: 'start-pipeline', crash: 'afterCall', count: 1 }]);
  });

  it('refuses a file that is not JSON, naming the file', async () => {
    // Prepare
    const path = join(await mkdtemp(join(tmpdir(), 'world-')), 'truncated.json');
    await writeFile(path, '{ "startTime": ');

    // Act
    const loading = loadWorld(path);

    // Assess
    await expect(loading).rejects.toThrow(WorldFileError);
    await expect(loading).rejects.toThrow(`${path}: not valid JSON`);
  });

  it('refuses a file it cannot read, naming the file', async () => {
    // Act
    const loading = loadWorld('local/worlds/no-such-world.json');

    // Assess
    await expect(loading).rejects.toThrow(WorldFileError);
    await expect(loading).rejects.toThrow('local/worlds/no-such-world.json: cannot read the world file');
  });
});
