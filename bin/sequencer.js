#!/usr/bin/env node
// The `sequencer` command. The project is TypeScript run as it is (no build step): tsx loads it.
// It needs Node 22 or newer; the project brings Node 24 as a devDependency, so an older `node`
// on the PATH hands over to that one instead of failing half-way.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(projectNode)) {
    console.error(`sequencer: needs Node 22 or newer (this is ${process.version}); run 'npm ci' first, which brings Node 24.`);
    process.exit(2);
  }
  const { status } = spawnSync(projectNode, process.argv.slice(1), { stdio: 'inherit' });
  process.exit(status ?? 1);
}

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
