import { completionModule } from '../../local/definition.js';
import { CodePipelineEmulator } from '../../local/emulator/codepipeline.js';
import { matchesPattern, pipelineEvent, type LocatedChange } from '../../local/pipeline-events.js';
import { eventStateOf, parseWorld } from '../../local/world.js';

/*
 * The local bus's "CodePipeline Pipeline Execution State Change", checked against the event
 * CodePipeline puts on EventBridge (CodePipeline User Guide, "Monitoring CodePipeline events"):
 * its envelope, every `detail` field, and each state as events spell it (CANCELED, where the
 * API says Cancelled).
 */

const startTime = '2026-01-01T00:00:00Z';
const startMs = Date.parse(startTime);
const hubAccountId = '123456789012';

/** EventBridge writes its timestamps to the second, CodePipeline's start-time to the millisecond: accept either for whole seconds. */
const instant = (ms: number) => expect.stringMatching(new RegExp(`^${new Date(ms).toISOString().slice(0, 19)}(\\.000)?Z$`));

const change = (overrides: Partial<LocatedChange> = {}): LocatedChange => ({
  accountId: hubAccountId,
  region: 'us-east-1',
  pipelineName: 'deploy-api',
  pipelineExecutionId: '0c9d7f1e-6b9a-4c3e-9d51-2f0a8e7b6c45',
  state: 'SUCCEEDED',
  at: startMs + 600_000,
  startedAt: startMs,
  attempt: 1,
  ...overrides,
});

describe('pipelineEvent', () => {
  it('shapes an end as CodePipeline’s event: the envelope and every detail field', () => {
    // Act
    const event = pipelineEvent(change({ state: 'FAILED', attempt: 2, region: 'eu-west-1', accountId: '210987654321' }), 'event-1');

    // Assess
    expect(event).toEqual({
      version: '0',
      id: 'event-1',
      'detail-type': 'CodePipeline Pipeline Execution State Change',
      source: 'aws.codepipeline',
      account: '210987654321',
      time: instant(startMs + 600_000),
      region: 'eu-west-1',
      resources: ['arn:aws:codepipeline:eu-west-1:210987654321:deploy-api'],
      detail: {
        pipeline: 'deploy-api',
        'execution-id': '0c9d7f1e-6b9a-4c3e-9d51-2f0a8e7b6c45',
        'start-time': instant(startMs),
        state: 'FAILED',
        version: 1,
        'pipeline-execution-attempt': 2,
      },
    });
  });

  it('adds the execution trigger to a STARTED event, and counts an unnumbered execution as attempt 1', () => {
    // Act
    const event = pipelineEvent(change({ state: 'STARTED', at: startMs, attempt: undefined }), 'event-2');

    // Assess
    expect(event).toEqual({
      version: '0',
      id: 'event-2',
      'detail-type': 'CodePipeline Pipeline Execution State Change',
      source: 'aws.codepipeline',
      account: hubAccountId,
      time: instant(startMs),
      region: 'us-east-1',
      resources: [`arn:aws:codepipeline:us-east-1:${hubAccountId}:deploy-api`],
      detail: {
        pipeline: 'deploy-api',
        'execution-id': '0c9d7f1e-6b9a-4c3e-9d51-2f0a8e7b6c45',
        'start-time': instant(startMs),
        state: 'STARTED',
        version: 1,
        'pipeline-execution-attempt': 1,
        // The detail names whoever called StartPipelineExecution: on AWS, the caller's ARN.
        'execution-trigger': { 'trigger-type': 'StartPipelineExecution', 'trigger-detail': expect.any(String) },
      },
    });
  });
});

describe('the state each execution’s events carry', () => {
  it('maps every API status to the event’s spelling: Cancelled is CANCELED', () => {
    expect(eventStateOf).toEqual({
      InProgress: 'STARTED',
      Stopping: 'STOPPING',
      Succeeded: 'SUCCEEDED',
      Failed: 'FAILED',
      Stopped: 'STOPPED',
      Superseded: 'SUPERSEDED',
      Cancelled: 'CANCELED',
    });
  });

  it('emits each outcome’s end in AWS’s spelling, which the deployed rule’s pattern lets through', () => {
    // Prepare
    const outcomes = { S: 'Succeeded', F: 'Failed', ST: 'Stopped', C: 'Cancelled', SUP: 'Superseded' };
    const world = parseWorld(
      {
        startTime,
        pipelines: Object.entries(outcomes).map(([name, outcome]) => ({
          name,
          durationSeconds: 300,
          outcome,
          ...(outcome === 'Superseded' && { supersededBy: { durationSeconds: 200 } }),
        })),
      },
      'pipeline-events test world',
    );
    let nowMs = startMs;
    const codePipeline = new CodePipelineEmulator(world, { now: () => nowMs });
    const started = Object.keys(outcomes).map(
      (name) => (codePipeline.operations.StartPipelineExecution({ name }) as { pipelineExecutionId: string }).pipelineExecutionId,
    );
    const rule = completionModule.pipelineEventPattern(Object.keys(outcomes));

    // Act
    nowMs += 86_400_000;
    const events = codePipeline
      .stateChanges()
      .filter((each) => started.includes(each.pipelineExecutionId))
      .map((each) => pipelineEvent({ ...each, accountId: hubAccountId, region: 'us-east-1' }, 'id'));

    // Assess
    const statesOf = (name: string) => events.filter((event) => (event.detail as { pipeline: string }).pipeline === name).map((event) => (event.detail as { state: string }).state);
    expect(Object.fromEntries(Object.keys(outcomes).map((name) => [name, statesOf(name)]))).toEqual({
      S: ['STARTED', 'SUCCEEDED'],
      F: ['STARTED', 'FAILED'],
      ST: ['STARTED', 'STOPPED'],
      C: ['STARTED', 'CANCELED'],
      SUP: ['STARTED', 'SUPERSEDED'],
    });
    const ends = events.filter((event) => (event.detail as { state: string }).state !== 'STARTED');
    expect(ends.filter((event) => !matchesPattern(rule, event))).toEqual([]);
  });
});
