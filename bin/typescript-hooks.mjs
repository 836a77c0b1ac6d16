// How the `sequencer` command runs the project's TypeScript as it is, in this Node: its compile
// cache, the local engine's stand-ins and where each import resolves. bin/sequencer.js calls it
// before it imports bin/cli.ts; so does the end-to-end tests' warm command (test/e2e/warm-sequencer.mjs),
// which must load the very modules the binary loads.
import * as nodeModule from 'node:module';
import interpreterImports from '../local/interpreter-imports/index.cjs';
import { compileCacheDirectory } from '../local/own-directory.mjs';
import { resolutionCache } from '../local/resolutions.mjs';
import typescriptSources from '../deploy/typescript-sources.cjs';

export function runTypeScriptAsIs() {
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
}
