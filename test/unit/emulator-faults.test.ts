import {
  CodePipelineClient,
  CodePipelineServiceException,
  GetPipelineExecutionCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { SimulatedClock } from '../../local/clock.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { parseWorld } from '../../local/world.js';

const pipelines = [
  { name: 'P1', durationSeconds: 600 },
  { name: 'P2', durationSeconds: 600 },
];

let emulator: Emulator;
const clients: CodePipelineClient[] = [];

async function emulate(faults: Record<string, unknown>[]): Promise<void> {
  const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines, faults }, 'faults test world');
  emulator = await startEmulator({ world, clock: new SimulatedClock(Date.parse(world.startTime)) });
}

function client(maxAttempts = 1): CodePipelineClient {
  const codePipeline = new CodePipelineClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });
  clients.push(codePipeline);
  return codePipeline;
}

async function outcomeOf(promise: Promise<unknown>): Promise<'ok' | Error> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error as Error;
  }
}

describe('faults scripted by the world', () => {
  afterEach(async () => {
    for (const codePipeline of clients.splice(0)) codePipeline.destroy();
    await emulator.close();
  });

  it('answers throttled calls the way the SDK reports a real ThrottlingException', async () => {
    // Prepare
    await emulate([{ operation: 'StartPipelineExecution', error: 'ThrottlingException', count: 1 }]);

    // Act
    const error = await outcomeOf(client().send(new StartPipelineExecutionCommand({ name: 'P1' })));

    // Assess
    // CodePipeline does not model ThrottlingException, so the SDK raises its service base class under that name.
    expect(error).toBeInstanceOf(CodePipelineServiceException);
    expect(error).toMatchObject({
      name: 'ThrottlingException',
      message: 'ThrottlingException injected by the world file',
      $fault: 'client',
      $retryable: undefined,
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('is recognised as throttling by the SDK’s own retry strategy', async () => {
    // Prepare
    await emulate([{ operation: 'StartPipelineExecution', error: 'ThrottlingException', count: 2 }]);

    // Act
    const started = await client(3).send(new StartPipelineExecutionCommand({ name: 'P1' }));

    // Assess
    expect(started.$metadata.attempts).toBe(3);
    expect(emulator.callCounts()).toEqual({ StartPipelineExecution: 3 });
  });

  it('fails exactly count calls, then answers normally', async () => {
    // Prepare
    await emulate([{ operation: 'GetPipelineExecution', error: 'ThrottlingException', count: 3 }]);
    const codePipeline = client();
    const { pipelineExecutionId } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'P1' }));
    const poll = () =>
      outcomeOf(codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: 'P1', pipelineExecutionId })));

    // Act
    const outcomes = [await poll(), await poll(), await poll(), await poll()];

    // Assess
    expect(outcomes.map((outcome) => (outcome === 'ok' ? 'ok' : outcome.name))).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);
    expect(emulator.callCounts()).toEqual({ StartPipelineExecution: 1, GetPipelineExecution: 4 });
  });

  it('answers InternalFailure with HTTP 500 and starts nothing', async () => {
    // Prepare
    await emulate([{ operation: 'StartPipelineExecution', error: 'InternalFailure', count: 1 }]);

    // Act
    const error = await outcomeOf(client().send(new StartPipelineExecutionCommand({ name: 'P1' })));

    // Assess
    expect(error).toMatchObject({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    expect(emulator.executions()).toEqual([]);
  });

  it('uses the HTTP status the world gives', async () => {
    // Prepare
    await emulate([{ operation: 'StartPipelineExecution', error: 'ServiceUnavailable', httpStatus: 502, count: 1 }]);

    // Act
    const error = await outcomeOf(client().send(new StartPipelineExecutionCommand({ name: 'P1' })));

    // Assess
    expect(error).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 502 } });
  });

  it('answers late when the world gives a latency, and counts the calls it was answering at once', async () => {
    // Prepare
    // Long enough that three calls sent together overlap even on a busy machine.
    await emulate([{ operation: 'GetPipelineExecution', latencyMs: 1000, count: 3 }]);
    const codePipeline = client();
    const { pipelineExecutionId } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'P1' }));
    const poll = () => codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: 'P1', pipelineExecutionId }));

    // Act
    const answers = await Promise.all([poll(), poll(), poll()]);

    // Assess
    expect(answers.map((answer) => answer.pipelineExecution?.status)).toEqual(['InProgress', 'InProgress', 'InProgress']);
    expect(emulator.mostInFlight()).toEqual({ StartPipelineExecution: 1, GetPipelineExecution: 3 });
  });

  it('answers late with an error when the world gives both', async () => {
    // Prepare
    await emulate([{ operation: 'StartPipelineExecution', error: 'ThrottlingException', latencyMs: 20, count: 1 }]);

    // Act
    const error = await outcomeOf(client().send(new StartPipelineExecutionCommand({ name: 'P1' })));

    // Assess
    expect(error).toMatchObject({ name: 'ThrottlingException' });
    expect(emulator.executions()).toEqual([]);
  });

  it('fails only calls about the pipeline the fault names', async () => {
    // Prepare
    await emulate([{ operation: 'StartPipelineExecution', error: 'InternalFailure', count: 1, pipelineName: 'P2' }]);
    const codePipeline = client();

    // Act
    const onP1 = await outcomeOf(codePipeline.send(new StartPipelineExecutionCommand({ name: 'P1' })));
    const onP2 = await outcomeOf(codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2' })));
    const onP2Again = await outcomeOf(codePipeline.send(new StartPipelineExecutionCommand({ name: 'P2' })));

    // Assess
    expect(onP1).toBe('ok');
    expect(onP2).toMatchObject({ name: 'InternalFailure' });
    expect(onP2Again).toBe('ok');
    expect(emulator.executions().map((execution) => execution.pipelineName)).toEqual(['P1', 'P2']);
  });
});
