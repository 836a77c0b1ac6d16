#!/usr/bin/env node
// The `sequencer` command. The project is TypeScript run as it is (no build step): Node strips
// the types itself. That needs a Node that runs TypeScript and has module.registerHooks (22.18+,
// 24); the project brings Node 24 as a devDependency, so an older `node` on the PATH hands over
// to that one instead of failing half-way.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { constants } from 'node:os';
import { setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import interpreterImports from '../local/interpreter-imports/index.cjs';
import { compileCacheDirectory } from '../local/own-directory.mjs';
import { resolutionCache } from '../local/resolutions.mjs';
import typescriptSources from '../deploy/typescript-sources.cjs';

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
  // Node keeps the code it compiles (the SDK's, the engine's, the stripped TypeScript) in its
  // compile cache: each command after the first starts sooner. Its place is this user's own
  // directory in the temporary directory (local/own-directory.mjs says why), never the shared one
  // Node would pick. NODE_COMPILE_CACHE=DIR moves it, NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  const cacheDirectory = compileCacheDirectory();
  if (cacheDirectory !== undefined) nodeModule.enableCompileCache(cacheDirectory);
  // The interpreter of the local engine (aws-local-stepfunctions) gets stand-ins for three of the
  // packages its ES module imports (local/interpreter-imports/index.cjs says which and why).
  // Only its own imports are redirected: a stand-in's require of the real package comes from the
  // interpreter's CommonJS build, another file.
  const interpreter = import.meta.resolve('aws-local-stepfunctions');
  const standIns = Object.fromEntries(
    Object.entries(interpreterImports).map(([specifier, file]) => [specifier, new URL(`../local/interpreter-imports/${file}`, import.meta.url).href]),
  );
  // An ES module's import of node:http (@middy/util's) gets local/node-http.ts, which leaves out
  // the exports that load undici; a require gets Node's own.
  const nodeHttp = new URL('../local/node-http.ts', import.meta.url).href;
  // Where each package was found last time (local/resolutions.mjs), for what Node would work out anew.
  const resolutions = resolutionCache(new URL('..', import.meta.url));
  // The sources' `./x.js` imports name `./x.ts` (deploy/typescript-sources.cjs).
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (context.parentURL === interpreter && Object.hasOwn(standIns, specifier)) {
        return { url: standIns[specifier], shortCircuit: true };
      }
      if ((specifier === 'node:http' || specifier === 'http') && context.conditions.includes('import') && context.parentURL !== nodeHttp) {
        return { url: nodeHttp, shortCircuit: true };
      }
      const key = `${context.parentURL}\n${specifier}\n${context.conditions}`;
      const kept = resolutions.get(key);
      if (kept !== undefined) return kept;
      const resolved = nextResolve(typescriptSources.sourceSpecifier(specifier, context.parentURL), context);
      resolutions.set(key, resolved);
      return resolved;
    },
  });
  const { cli } = await import('./cli.ts');
  await cli(process.argv.slice(2));
}
