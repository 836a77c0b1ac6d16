#!/usr/bin/env node
// The `sequencer` command. The project is TypeScript run as it is (no build step): Node strips
// the types itself. That needs a Node that runs TypeScript and has module.registerHooks (22.18+,
// 24); the project brings Node 24 as a devDependency, so an older `node` on the PATH hands over
// to that one instead of failing half-way.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import typescriptSources from '../deploy/typescript-sources.cjs';
import { runTypeScriptAsIs } from './typescript-hooks.mjs';

if (!typescriptSources.runsTypeScript()) {
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(projectNode)) {
    console.error(`sequencer: needs Node 22.18 or newer (this is ${process.version}); run 'npm ci' first, which brings Node 24.`);
    process.exit(2);
  }
  // The project's own Node refusing too (NODE_OPTIONS=--no-strip-types) would hand
  // over to itself for ever: say so instead.
  if (realpathSync(process.execPath) === realpathSync(projectNode)) {
    console.error(`sequencer: this Node (${process.version}) was told not to run TypeScript (--no-strip-types in NODE_OPTIONS?); the sequencer is TypeScript run as it is.`);
    process.exit(2);
  }
  // The IPC channel is a lifeline: if this process dies however it dies (even SIGKILL), the
  // child sees it close and stops too, so an emulator never outlives the command that started it.
  const child = spawn(projectNode, process.argv.slice(1), {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SEQUENCER_WRAPPER_PID: String(process.pid) },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  // Under npx the shell between npm and us dies of a SIGTERM without passing it on: follow it.
  if (process.env.npm_command === 'exec') {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) child.kill('SIGTERM');
    }, 250).unref();
  }
  child.on('error', (error) => {
    console.error(`sequencer: cannot start ${projectNode}: ${error.message}`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
} else {
  runTypeScriptAsIs();
  const { cli } = await import('./cli.ts');
  await cli(process.argv.slice(2));
}
