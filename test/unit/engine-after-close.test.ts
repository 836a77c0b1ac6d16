import { closeLocalEngine, LocalEngine } from '../../local/engine.js';
import { parseWorld } from '../../local/world.js';

/**
 * One process, engine after engine, with the emulator or DynamoDB closed between them: a command
 * run after another in one process (the end-to-end tests' warm command) or a test file's second
 * engine after closeLocalEngine. The handlers' SDK clients are made once, at module load, with the
 * first endpoints; the next run must still reach the emulator and DynamoDB serving now.
 */
describe('a local run after the emulator or DynamoDB of an earlier engine closed', () => {
  const world = parseWorld({ startTime: '2026-01-01T00:00:00Z', pipelines: [{ name: 'P1', durationSeconds: 600 }] }, 'after-close world');
  const outcome = async (engine: LocalEngine) => {
    const report = await engine.run({ input: { order: ['P1'] } });
    return [report.status, report.error, report.cause];
  };
  const succeeded = ['SUCCEEDED', undefined, undefined];

  afterAll(closeLocalEngine);

  it('reaches the new emulator, on another port, whichever endpoint the handlers were made with', async () => {
    // Prepare
    const first = await LocalEngine.create({ world });
    expect(await outcome(first)).toEqual(succeeded);
    await first.emulator.close();

    // Act
    const second = await LocalEngine.create({ world });
    const ran = await outcome(second);

    // Assess
    expect(second.emulator.endpoint).not.toBe(first.emulator.endpoint);
    expect(ran).toEqual(succeeded);
  });

  it('an old emulator closed again leaves the new one answering', async () => {
    // Prepare
    const old = await LocalEngine.create({ world });
    await old.emulator.close();
    const current = await LocalEngine.create({ world });

    // Act
    await old.emulator.close();

    // Assess
    expect(await outcome(current)).toEqual(succeeded);
  });

  it('reaches a new DynamoDB after closeLocalEngine', async () => {
    // Prepare
    expect(await outcome(await LocalEngine.create({ world }))).toEqual(succeeded);
    const dynamoBefore = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await closeLocalEngine();

    // Act
    const engine = await LocalEngine.create({ world });
    const ran = await outcome(engine);

    // Assess
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).not.toBe(dynamoBefore);
    expect(ran).toEqual(succeeded);
  });
});
