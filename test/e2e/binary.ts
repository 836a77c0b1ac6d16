import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
 * `sequencer ARGS` as a separate process, with `stdin` (default: none) on its standard input, run
 * by `node` (default: the first on the PATH, as a shell would).
 */
export const sequencer = (args: string[], extraEnv: Record<string, string> = {}, stdin?: string, node = 'node') =>
  new Promise<Result>((resolve) => {
    const child = execFile(node, ['bin/sequencer.js', ...args], { env: cleanEnv(extraEnv) }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
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
