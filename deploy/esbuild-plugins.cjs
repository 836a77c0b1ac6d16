'use strict';
// esbuild plugins for `sls package` (serverless.yml custom.esbuild.plugins).
//
// In an ES module bundle, `import ... from 'node:http'` makes Node build the module's ESM
// facade, which reads every export, including the lazy ones that load undici (about 20 ms
// of every cold start, measured with npm run bench). A CommonJS require of the same built-in
// reads nothing it is not asked for, so built-ins are loaded through the bundle's require.
const { builtinModules } = require('node:module');

const names = builtinModules.filter((name) => !name.startsWith('_')).map((name) => name.replace(/[/]/g, '\\/'));
const builtin = new RegExp(`^(node:)?(${names.join('|')})$`);

const requireNodeBuiltins = {
  name: 'require-node-builtins',
  setup(build) {
    build.onResolve({ filter: builtin }, (args) =>
      args.kind === 'require-call' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'node-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require('node:${args.path}');`,
      loader: 'js',
    }));
  },
};

// With `splitting`, esbuild writes the code a function loads only when it needs it (the Step
// Functions and STS clients) as chunks beside its file, with names of their own, and
// serverless-esbuild would zip every function's chunks into every function's package. Each chunk
// is named after its function instead (`handlers/decide-order.chunk-ABC.mjs`): serverless-esbuild
// leaves out of a package the files named after another function (`handlers/sweeper.*`), so each
// package holds its own function's code only. The files are written here, renamed, rather than by
// esbuild, so that two functions built at once never rename a chunk both wrote.
const { Buffer } = require('node:buffer');
const { mkdirSync, writeFileSync } = require('node:fs');
const { basename, dirname, join, relative, resolve } = require('node:path');
const { reachableOutputs } = require('./metafile.cjs');

const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const chunksNamedAfterTheirFunction = {
  name: 'chunks-named-after-their-function',
  setup(build) {
    const options = build.initialOptions;
    if (!options.splitting) return;
    const write = options.write !== false;
    options.write = false;
    options.metafile = true;
    build.onEnd((result) => {
      if (result.errors.length > 0 || !result.outputFiles || !result.metafile) return;
      const outputs = result.metafile.outputs;
      // The function's own file (a chunk loaded with import() has an entryPoint too), and what it
      // can load, at once or with import(). esbuild also writes a chunk for an import() that
      // tree-shaking left nowhere (the SDK's browser user-agent parser): nothing loads it, so it is dropped.
      const root = options.absWorkingDir ?? process.cwd();
      const given = new Set([options.entryPoints].flat().map((entry) => resolve(root, typeof entry === 'string' ? entry : entry.in)));
      const entries = Object.keys(outputs).filter((path) => outputs[path].entryPoint !== undefined && given.has(resolve(root, outputs[path].entryPoint)));
      if (entries.length !== 1) throw new Error(`chunks-named-after-their-function: expected one function per build, got ${entries.length}`);
      const reachable = reachableOutputs(outputs, entries[0]);
      const kept = (path) => reachable.has(path.replace(/\.map$/, ''));
      const prefix = basename(entries[0]).replace(/\.[cm]?js$/, '');
      const chunks = [...reachable].filter((path) => path !== entries[0]).map((path) => basename(path));
      const renamed = (name) => (chunks.some((chunk) => name === chunk || name === `${chunk}.map`) ? `${prefix}.${name}` : name);
      const renamedPath = (path) => join(dirname(path), renamed(basename(path)));
      // A chunk's name where the code or a source map comment names it: after `/`, `=` or a quote.
      const mention = chunks.length > 0 ? new RegExp(`(?<=[/="'])(${chunks.map(escaped).join('|')})`, 'g') : undefined;
      const rewrite = (text) => (mention ? text.replace(mention, (name) => `${prefix}.${name}`) : text);
      result.outputFiles = result.outputFiles.filter((file) => kept(relative(root, file.path))).map((file) => {
        const path = renamedPath(file.path);
        const text = file.path.endsWith('.map') ? file.text : rewrite(file.text);
        const contents = Buffer.from(text);
        if (write) {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, contents);
        }
        return { path, contents, text, hash: file.hash };
      });
      result.metafile.outputs = Object.fromEntries(
        Object.entries(outputs).filter(([path]) => kept(path)).map(([path, output]) => [
          renamedPath(path),
          { ...output, imports: output.imports.map((item) => (item.external ? item : { ...item, path: renamedPath(item.path) })) },
        ]),
      );
    });
  },
};

module.exports = [requireNodeBuiltins, chunksNamedAfterTheirFunction];
