'use strict';
// How this project's TypeScript runs as it is, with no build step, wherever Node loads it: the
// package-time checks (deploy/stage-params.cjs) and the command line (bin/sequencer.js). Here in
// deploy/, which every copy of the service holds, as sls package needs it.
const nodeModule = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');

const projectUrl = pathToFileURL(join(dirname(module.filename), '..', '/')).href;

/** Node strips the types itself and has synchronous module hooks (22.18+, 24). */
const runsTypeScript = () => Boolean(process.features.typescript) && typeof nodeModule.registerHooks === 'function';

/**
 * The sources import each other as `./x.js`, as TypeScript's NodeNext resolution wants; the file
 * beside them is `./x.ts`. Only this project's TypeScript files' relative imports are renamed, so
 * a package's own files resolve as Node resolves them.
 */
function sourceSpecifier(specifier, parentURL) {
  const own = parentURL?.startsWith(projectUrl) && !parentURL.includes('/node_modules/');
  const renamed = own && parentURL.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js');
  return renamed ? `${specifier.slice(0, -3)}.ts` : specifier;
}

module.exports = { runsTypeScript, sourceSpecifier };
