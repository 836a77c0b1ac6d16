import { exec, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, exitCode } from './binary.js';

/**
 * Every `sequencer` example in the README runs as written and ends as the README says; every
 * shipped world is one of them; the README's world file is the shipped one.
 */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const worldsDirectory = new URL('../../local/worlds/', import.meta.url);
const shippedWorlds = readdirSync(worldsDirectory).filter((name) => name.endsWith('.json'));

/** `npx sequencer ...` lines of the README's sh blocks and inline code, with the exit code their comment states (0 when none). */
function examples(): { command: string; exitCode: number }[] {
  const blockLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1]!.split('\n'));
  const inline = [...readme.matchAll(/`(npx --no sequencer [^`]+)`/g)].map((match) => match[1]!);
  return [...blockLines, ...inline]
    .map((line) => line.trim())
    .filter((line) => line.startsWith('npx --no sequencer '))
    .map((line) => {
      const [command, comment = ''] = line.split(/\s+#\s+/);
      return { command: command!.trim(), exitCode: Number(/^exit (\d+)/.exec(comment)?.[1] ?? 0) };
    });
}

/**
 * The first example of each kind runs through npx, as typed; the others as npx would run them:
 * `sequencer` with the same words after it, node_modules/.bin first on the PATH. npx resolves
 * every example the same way, and each npx cost a third of a CPU-second more on top of the run.
 */
const binDirectory = fileURLToPath(new URL('../../node_modules/.bin', import.meta.url));
const asRun = (command: string, index: number) => (index === 0 ? command : command.replace(/^npx --no sequencer /, 'sequencer '));

const runShell = (command: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const env = { ...cleanEnv(), PATH: `${binDirectory}${delimiter}${process.env.PATH ?? ''}` };
    exec(command, { env }, (error, stdout, stderr) => resolve({ code: exitCode(error), stdout, stderr }));
  });

const isHelp = (command: string) => /(^| )(--help|help|version)( |$)/.test(command);
const helpExamples = examples().filter(({ command }) => isHelp(command));
const runExamples = examples().filter(({ command }) => command.startsWith('npx --no sequencer run') && !isHelp(command));
const emulatorExamples = examples().filter(({ command }) => command.startsWith('npx --no sequencer emulator') && !isHelp(command));

describe('README examples', () => {
  it('has run, emulator and help examples to try', () => {
    expect(runExamples.length).toBeGreaterThanOrEqual(4);
    expect(emulatorExamples.length).toBeGreaterThanOrEqual(1);
    expect(helpExamples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(helpExamples.map((example, index) => [example.command, index]))('%s prints help or the version, exit 0', async (command, index) => {
    const { code, stdout } = await runShell(asRun(command, index));

    expect(code).toBe(0);
    expect(stdout).toMatch(/^(Usage: sequencer|sequencer \d+\.\d+\.\d+$)/m);
  });

  it.each(runExamples.map((example, index) => [example.command, example.exitCode, index] as const))('%s exits %i, one run to its end', async (command, exitCode, index) => {
    const { code, stdout, stderr } = await runShell(asRun(command, index));

    expect({ code, stderr: code === 0 ? stderr : '' }).toEqual({ code: exitCode, stderr: '' });
    // It ran (an order was decided, a report printed), rather than being refused before the run.
    expect(stdout).toMatch(command.includes('--json') ? /"status": "(SUCCEEDED|FAILED)"/ : /order decided: /);
    if (exitCode === 1) expect(stderr).toMatch(/^sequencer: FAILED {2}\w+: /);
  });

  it.each(emulatorExamples.map((example) => [example.command]))('%s serves the world until Ctrl-C', async (command) => {
    // As a shell runs it (quotes and all), in the foreground: a trailing `&` is for the reader.
    // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group
    // (npx does not forward a signal sent to it alone to the command it runs).
    const child = spawn('sh', ['-c', command.replace(/\s*&$/, '')], { env: cleanEnv(), detached: true });
    const ctrlC = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let port = 0;
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(chunk.toString());
          if (found) resolve(found[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      port = Number(new URL(endpoint).port);

      ctrlC('SIGINT');
      await exited;
    } finally {
      ctrlC('SIGKILL');
    }

    const stillServing = async () =>
      new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port });
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
    for (let attempt = 0; attempt < 50 && (await stillServing()); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await stillServing()).toBe(false);
  });

  it('uses every shipped world (demo.json is the default)', () => {
    const used = new Set(runExamples.flatMap(({ command }) => /--world local\/worlds\/([\w.-]+)/.exec(command)?.[1] ?? 'demo.json'));

    expect(shippedWorlds.filter((name) => !used.has(name))).toEqual([]);
  });

  it('shows the world file it ships: the README’s world is local/worlds/failing.json', () => {
    const shown = /this one is `local\/worlds\/([\w.-]+)`:\n\n```json\n([\s\S]*?)```/.exec(readme);

    expect(shown).not.toBeNull();
    expect(JSON.parse(shown![2]!)).toEqual(JSON.parse(readFileSync(new URL(shown![1]!, worldsDirectory), 'utf8')));
  });
});
