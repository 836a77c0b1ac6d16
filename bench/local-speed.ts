import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { projectRoot } from '../local/stage.js';
import { round } from './stats.js';

export interface LocalSpeed {
  startMs: number;
  /** null with --quick: the e2e suite was not rerun. */
  e2eMs: number | null;
  /** Exit codes: a slow suite that also failed is a different story from a slow green one. */
  startExitCode: number | null;
  e2eExitCode: number | null;
}

const projectNode = `${projectRoot}node_modules/.bin/node`;

/** Wall time of one child process, start to exit, its output discarded. */
function timeProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; exitCode: number | null }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(command, args, { cwd: projectRoot, env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ ms: round(performance.now() - startedAt, 0), exitCode }));
  });
}

export async function measureLocalSpeed(env: NodeJS.ProcessEnv, progress: (line: string) => void, options = { e2e: true }): Promise<LocalSpeed> {
  // What `npm start` runs, minus npm's own start-up.
  const start = await timeProcess(projectNode, ['bin/sequencer.js', 'run', '--world', 'local/worlds/demo.json'], env);
  progress(`local: npm start took ${start.ms} ms`);
  // --quick: the e2e suite is most of the bench's wall time, and npm test already runs it.
  if (!options.e2e) return { startMs: start.ms, e2eMs: null, startExitCode: start.exitCode, e2eExitCode: null };
  // jest's bin through the project's Node 24: node_modules/.bin/jest would run on whichever
  // `node` the PATH finds first, Node 20 outside npm scripts.
  const jest = createRequire(import.meta.url).resolve('jest/bin/jest');
  const e2e = await timeProcess(projectNode, [jest, 'test/e2e'], { ...env, NODE_OPTIONS: '--experimental-vm-modules' });
  progress(`local: e2e suite took ${e2e.ms} ms`);
  return { startMs: start.ms, e2eMs: e2e.ms, startExitCode: start.exitCode, e2eExitCode: e2e.exitCode };
}
