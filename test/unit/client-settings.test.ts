import { CodePipelineClient, GetPipelineCommand } from '@aws-sdk/client-codepipeline';
import { jest } from '@jest/globals';
import { SimulatedClock } from '../../local/clock.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import type { WireRequest } from '../../local/emulator/server.js';
import { answerHere, awsCallsByFunction, instrumentClients, invokedAs, stopAnsweringHere } from '../../local/sdk-clients.js';
import { parseWorld } from '../../local/world.js';
import { clientSettings } from '../../src/client-settings.js';

// No test of this file may instrument the clients before the one that needs a call made before it.
const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [{ name: 'P1', durationSeconds: 600 }] }, 'client-settings world');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({ world, clock: new SimulatedClock(Date.parse(world.startTime)) });
});
afterEach(async () => {
  stopAnsweringHere(emulator.endpoint);
  await emulator.close();
});

describe("the functions' SDK clients (src/client-settings.ts)", () => {
  it('are each made with the settings', async () => {
    // Prepare
    const { codePipeline } = await import('../../src/codepipeline.js');
    const { dynamo } = await import('../../src/completion-table.js');
    const { sns } = await import('../../src/notify.js');
    const { stepFunctions } = await import('../../src/stepfunctions.js');

    // Act
    const clients = [codePipeline, dynamo, sns, (await stepFunctions()).client];

    // Assess
    for (const { config } of clients) {
      expect({ cacheMiddleware: config.cacheMiddleware, maxAttempts: await config.maxAttempts(), retryMode: typeof config.retryMode === 'string' ? config.retryMode : await config.retryMode() }).toEqual(clientSettings);
    }
  });

  it('resolve their middleware once per command, not at every call', async () => {
    // Prepare
    const client = new CodePipelineClient({ ...clientSettings, endpoint: emulator.endpoint, region: 'us-east-1', credentials });
    const resolved = jest.spyOn(GetPipelineCommand.prototype, 'resolveMiddleware');

    // Act
    for (let call = 0; call < 3; call += 1) await client.send(new GetPipelineCommand({ name: 'P1' }));

    // Assess
    expect(resolved).toHaveBeenCalledTimes(1);
    resolved.mockRestore();
    client.destroy();
  });

  it('are filed and answered in process by the local engine even when they called before it started', async () => {
    // Prepare: a call over the socket, before the engine instruments the clients, caches a chain without it.
    const client = new CodePipelineClient({ ...clientSettings, endpoint: emulator.endpoint, region: 'us-east-1', credentials });
    await client.send(new GetPipelineCommand({ name: 'P1' }));
    instrumentClients();
    const inProcess: WireRequest[] = [];
    answerHere(emulator.endpoint, (request) => {
      inProcess.push(request);
      return emulator.answer(request);
    });

    // Act
    const { pipeline } = await invokedAs.run('decideOrder', () => client.send(new GetPipelineCommand({ name: 'P1' })));

    // Assess
    expect(pipeline?.name).toBe('P1');
    expect(inProcess.map(({ headers }) => headers['x-amz-target'])).toEqual(['CodePipeline_20150709.GetPipeline']);
    expect([...(awsCallsByFunction.get('decideOrder') ?? [])]).toEqual(['codepipeline:GetPipeline']);
    client.destroy();
  });
});
