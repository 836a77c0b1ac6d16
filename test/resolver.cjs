// jest's resolver, with one exception: the local engine's interpreter (aws-local-stepfunctions)
// gets the stand-ins the command line's resolve hook gives it (bin/sequencer.js), so the tests run
// the engine as `sequencer run` runs it. As there, only the interpreter's ES module's imports are
// redirected: a stand-in's require of the real package (from the interpreter's CommonJS build, in
// the same folder) resolves as it always does. jest names the importer's folder, not its file, so
// the ES module is told from its CommonJS twin there by the `import` condition; nothing else in
// that folder imports these packages.
const { dirname } = require('node:path');
const interpreterImports = require('../local/interpreter-imports/index.cjs');

const interpreterFolder = dirname(require.resolve('aws-local-stepfunctions'));

module.exports = (path, options) =>
  options.basedir === interpreterFolder && options.conditions?.includes('import') && Object.hasOwn(interpreterImports, path)
    ? require.resolve(`../local/interpreter-imports/${interpreterImports[path]}`)
    : options.defaultResolver(path, options);
