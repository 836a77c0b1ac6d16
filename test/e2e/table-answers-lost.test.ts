import { closeLocalEngine, LocalEngine } from '../../local/engine.js';
import { claimGraceSeconds, tableClient } from '../../src/completion-table.js';
import { clientSettings } from '../../src/client-settings.js';
import type { PipelineResult } from '../../src/run.js';
import { expectSequential, noticedByEvent, ours, world } from './support.js';
import { answerLostOnce } from '../support/answer-lost.js';

/*
 * DynamoDB may apply a write and still answer 500 (or time out): the SDK sends it again, and a
 * conditional write then meets itself. The local table never does that by itself, so each test
 * here makes it do so, once, for one kind of the functions' writes, beneath the SDK's retries: the
 * run must still end as it would, never start a pipeline twice, and notice every end from its
 * event as soon as it would have (a write that took its own refusal for another's left the run
 * asleep to the pipeline's deadline locally, and for a sweep and a minute's grace on AWS).
 */

afterAll(closeLocalEngine);

const sweepSeconds = 60;
const pipelines = [
  { name: 'P1', durationSeconds: 600 },
  { name: 'P2', durationSeconds: 900 },
  { name: 'P3', durationSeconds: 420 },
];

/** What tells each kind of write apart in its request. */
const writes = {
  'the stage’s run lock taken': ['"PutItem"', '"lock#'],
  'a watch written by start-pipeline': ['"PutItem"', '"watch#'],
  'a watch marked ended by the event function': ['SET ended = :state'],
  'an end recorded on the run’s wait': ['SET woken = :woken'],
  'the waking mark cleared': ['REMOVE waking'],
  'the stage’s run lock released': ['"DeleteItem"', '"lock#'],
} as const;

describe('a table write DynamoDB applied but whose answer was lost', () => {
  it.each(Object.keys(writes) as (keyof typeof writes)[])('%s: the run ends as it would, each pipeline started once, each end noticed from its event', async (kind) => {
    // Prepare: the first such write is applied, then answered 500; the SDK sends it again.
    const { answered, restore } = answerLostOnce((await tableClient()).client, (request) => writes[kind].every((part) => request.includes(part)));

    try {
      const engine = await LocalEngine.create({ world: world(pipelines), settings: { completion: 'events', sweepSeconds } });

      // Act
      const report = await engine.run({ input: { order: ['P1', 'P2', 'P3'] } });

      // Assess: the write happened, and the SDK's retry met it.
      expect(answered[0]).toBe(200);
      expect(report.status).toBe('SUCCEEDED');
      expectSequential(report, ['P1', 'P2', 'P3']);
      expect(ours(report).map((execution) => execution.pipelineName)).toEqual(['P1', 'P2', 'P3']);
      for (const result of (report.output as { pipelines: PipelineResult[] }).pipelines) {
        expect(result.detectedBy).toBe('event');
        expect((Date.parse(result.detectedAt!) - Date.parse(result.finishedAt!)) / 1000).toBeLessThanOrEqual(noticedByEvent.most);
      }
    } finally {
      restore();
    }
  });
});

describe('a delivery whose SendTaskSuccess failed, and that could not open the watch again', () => {
  it('keeps its claim, which a sweep sends again once it is older than the grace, not left to the pipeline’s deadline', async () => {
    // Prepare: the wake's SendTaskSuccess is refused (a world fault), and every reopening of the watch is refused too.
    const { client } = await tableClient();
    client.config.cacheMiddleware = false;
    let refused = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const { UpdateExpression } = args.input as { UpdateExpression?: string };
        if (context.commandName !== 'UpdateItemCommand' || UpdateExpression !== 'REMOVE ended, waking') return next(args);
        refused += 1;
        throw Object.assign(new Error('User is not authorized to perform: dynamodb:UpdateItem'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      },
      { step: 'initialize', name: 'reopenRefused' },
    );

    try {
      const engine = await LocalEngine.create({
        world: world([{ name: 'P1', durationSeconds: 600 }], { faults: [{ operation: 'SendTaskSuccess', error: 'AccessDeniedException', count: 1 }] }),
        settings: { completion: 'events', sweepSeconds },
      });

      // Act
      const report = await engine.run({ input: { order: ['P1'] } });

      // Assess: the delivery failed, saying why (SendTaskSuccess); its claim stayed, and a sweep a minute or two on sent it again.
      expect(refused).toBeGreaterThan(0);
      expect(report.functionFailures).toEqual([expect.objectContaining({ functionName: 'pipelineEvent', message: expect.stringContaining('SendTaskSuccess') as unknown })]);
      expect(report.status).toBe('SUCCEEDED');
      const [p1] = (report.output as { pipelines: PipelineResult[] }).pipelines;
      expect(p1!.detectedBy).toBe('sweep');
      expect((Date.parse(p1!.detectedAt!) - Date.parse(p1!.finishedAt!)) / 1000).toBeLessThanOrEqual(claimGraceSeconds + sweepSeconds + 5);
    } finally {
      client.middlewareStack.remove('reopenRefused');
      client.config.cacheMiddleware = clientSettings.cacheMiddleware;
    }
  });
});
