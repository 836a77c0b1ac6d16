import { createServer, type Server } from 'node:net';
import { sequencer, warmSequencer } from './binary.js';

/**
 * Most end-to-end tests run their commands through warmSequencer, one process kept warm per test
 * file (test/e2e/warm-sequencer.mjs). That is only worth having if a command answers there exactly
 * as the binary answers: after other commands in the same process too, whatever they left.
 */
describe('the warm command the end-to-end tests use answers as the binary does', () => {
  const commands: [string, string[], Record<string, string>?][] = [
    ['a run, with its progress and summary', ['run', '--world', 'local/worlds/demo.json']],
    ['the same run again, in the same process', ['run', '--world', 'local/worlds/demo.json']],
    ['a run as JSON, in another order', ['run', '--world', 'local/worlds/demo.json', '--order', 'P3,P1,P2', '--json']],
    ['a failed run: exit 1, the failure line on stderr', ['run', '--world', 'local/worlds/failing.json']],
    ['a failed run on GitHub Actions', ['run', '--world', 'local/worlds/failing.json', '--json'], { GITHUB_ACTIONS: 'true' }],
    ['coloured output', ['run', '--world', 'local/worlds/demo.json', '--order', 'P2'], { FORCE_COLOR: '1' }],
    ['an unknown option: one line and a hint, exit 2', ['run', '--bogus']],
    ['a pipeline the world lacks, as JSON', ['run', '--world', 'local/worlds/demo.json', '--order', 'P9', '--json']],
    ['status with nothing listening at its endpoint', ['status', '--json'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:9' }],
    ['help', ['run', '--help']],
  ];

  it.each(commands)('%s', async (_, args, env = {}) => {
    const [warm, binary] = await Promise.all([warmSequencer(args, env), sequencer(args, env)]);

    expect(warm).toEqual(binary);
  });

  describe('after those runs, in the same process', () => {
    let busy: Server | undefined;
    afterEach(() => busy?.close());

    it('the emulator asked for a busy port refuses it, rather than serve where the runs’ emulator was', async () => {
      busy = createServer();
      await new Promise<void>((resolve) => busy!.listen(0, '127.0.0.1', resolve));
      const args = ['emulator', '--world', 'local/worlds/demo.json', '--port', String((busy.address() as { port: number }).port)];

      const [warm, binary] = await Promise.all([warmSequencer(args), sequencer(args)]);

      expect(warm).toEqual(binary);
      expect(warm.code).toBe(2);
    });
  });
});
