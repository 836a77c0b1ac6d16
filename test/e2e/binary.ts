import { execFile, spawn, type ChildProcess, type ExecFileException } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the real binary did: its exit code and both streams. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Colour, CI, log and AWS settings of the machine running the tests must not leak in, nor the
 * endpoints a local engine in this worker set (AWS_ENDPOINT_URL_*); `extra` is set on purpose.
 */
export const cleanEnv = (extra: Record<string, string> = {}) => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(AWS_|NO_COLOR$|FORCE_COLOR$|GITHUB_ACTIONS$|SEQUENCER_LOG_LEVEL$|POWERTOOLS_LOG_LEVEL$)/.test(name)) delete env[name];
  }
  return { ...env, ...extra };
};

/**
 * The commands of this test file still running. One that outlives its file (a test that timed out
 * on a command that hung) is killed when the file ends, rather than left running after the suite.
 */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** The exit code as a shell gives it: 128 plus the signal's number for a process a signal ended. */
export const exitCode = (error: Pick<ExecFileException, 'code' | 'signal'> | null) =>
  error === null ? 0 : typeof error.code === 'number' ? error.code : 128 + (constants.signals[error.signal as NodeJS.Signals] ?? 0);

/**
 * `sequencer ARGS` as a separate process, with `stdin` (default: none) on its standard input, run
 * by `node` (default: the first on the PATH, as a shell would), in the clean environment plus `extraEnv`.
 */
export const sequencer = (args: string[], extraEnv: Record<string, string> = {}, stdin?: string, node = 'node') =>
  new Promise<Result>((resolve, reject) => {
    const child = execFile(node, ['bin/sequencer.js', ...args], { env: cleanEnv(extraEnv) }, (error, stdout, stderr) => {
      running.delete(child);
      // A string code is execFile's own failure (more output than it buffers), not the command's exit.
      if (typeof error?.code === 'string') reject(error);
      else resolve({ code: exitCode(error), stdout, stderr });
    });
    running.add(child);
    child.stdin!.end(stdin ?? '');
  });

/**
 * A writer of the files a test hands the binary (worlds, inputs), in a temporary directory of its
 * own named after `prefix`: `file(name, content)` writes a string as it is, anything else as JSON, and returns the path.
 */
export function scratchFiles(prefix: string): (name: string, content: unknown) => string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  return (name, content) => {
    const path = join(directory, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
}

/**
 * `make()` run once, on first use, its answer shared by every caller: for tests that assert
 * different things about the output of one and the same command, which a second process would
 * only print again.
 */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let answer: Promise<T> | undefined;
  return () => (answer ??= make());
}

/** A command left running, whose lines can be waited for as they come. */
export function follow(args: string[], env: Record<string, string>) {
  const child = spawn('node', ['bin/sequencer.js', ...args], { env: cleanEnv(env) });
  const output = { stdout: '', stderr: '' };
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      const line = output.stdout.split('\n').find((candidate) => waiter.pattern.test(candidate));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    output,
    exited,
    waitFor: (pattern: RegExp) => new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
  };
}

/** The progress lines `start --wait` and `status --watch` print: `  +0:05:00  P1 ...`. */
export const progressLines = (stdout: string) => stdout.split('\n').filter((line) => /^ +\+\d+:\d\d:\d\d {2}/.test(line));
