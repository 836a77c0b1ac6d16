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

/** The answer of test/e2e/warm-sequencer.mjs to one command. */
interface WarmAnswer extends Result {
  id: number;
  /** What the command left keeping the event loop alive: a real process would not have exited. */
  leftOpen?: string[];
  /** The process ended after this answer, as the binary would have: an error nothing caught, or exit 2 with something left open. */
  retired?: true;
}

/**
 * What a process reads once, when it starts or first runs the functions: a warm process keeps the
 * first command's (Node's options and module paths, its compile cache and the temporary directory
 * of its caches, how npm or the Node-20 wrapper started it, the functions' Powertools settings).
 */
const readAtStart = /^(NODE_OPTIONS|NODE_PATH|NODE_COMPILE_CACHE|NODE_DISABLE_COMPILE_CACHE|TMPDIR|npm_command|SEQUENCER_WRAPPER_PID|SEQUENCER_LOG_LEVEL|AWS_LAMBDA_LOG_LEVEL|POWERTOOLS_\w+)$/;

/** This test file's warm commands waiting for their next command, and how many it asked so far. */
const idleWarm: ChildProcess[] = [];
let warmCommands = 0;

function startWarm(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['test/e2e/warm-sequencer.mjs'], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    running.add(child);
    // A send to a process that has just ended fails here, and its 'exit' reports it.
    child.on('error', () => undefined);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('message', () => resolve(child));
    child.once('exit', (code, signal) => {
      running.delete(child);
      const index = idleWarm.indexOf(child);
      if (index >= 0) idleWarm.splice(index, 1);
      reject(new Error(`the warm sequencer ended (${signal ?? code}) before it was ready:\n${stderr}`));
    });
  });
}

/**
 * `sequencer ARGS` run by the same main() as the binary, in a process kept warm for the next
 * command (test/e2e/warm-sequencer.mjs), in the clean environment plus `extraEnv`: the exit code and
 * both streams, as `sequencer` gives them. For what a command prints and answers; what the process
 * itself does (signals, pipes, stdin, what a start loads, the Node-20 handover) takes `sequencer`.
 * A command that leaves anything keeping the process alive 2 s after it returned fails: the binary
 * would still be running.
 */
export async function warmSequencer(args: string[], extraEnv: Record<string, string> = {}): Promise<Result> {
  const readOncePerProcess = Object.keys(extraEnv).filter((name) => readAtStart.test(name));
  if (readOncePerProcess.length > 0) throw new Error(`warmSequencer cannot honour ${readOncePerProcess.join(', ')}: a process reads it once, at its start; use sequencer`);
  // One command at a time per process: commands a test runs together each get their own.
  let child = idleWarm.pop();
  while (child !== undefined && !child.connected) child = idleWarm.pop();
  child ??= await startWarm();
  warmCommands += 1;
  const id = warmCommands;
  const { code, stdout, stderr, leftOpen, retired } = await new Promise<WarmAnswer>((resolve, reject) => {
    const ended = (exitedWith: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`the warm sequencer ended (${signal ?? exitedWith}) while running sequencer ${args.join(' ')}`));
    const answered = (message: WarmAnswer) => {
      if (message.id !== id) return;
      child.off('message', answered);
      child.off('exit', ended);
      resolve(message);
    };
    child.on('message', answered);
    child.once('exit', ended);
    child.send({ id, args, env: cleanEnv(extraEnv) });
  });
  if (leftOpen !== undefined && leftOpen.length > 0) {
    child.kill('SIGKILL');
    throw new Error(`sequencer ${args.join(' ')} left ${leftOpen.join(', ')} open 2 s after it returned: a real process would still be running`);
  }
  if (!retired) idleWarm.push(child);
  return { code, stdout, stderr };
}

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
