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

module.exports = [requireNodeBuiltins];
