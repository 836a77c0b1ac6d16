import { pathToFileURL } from 'node:url';
import { sourceSpecifier } from '../../deploy/typescript-sources.cjs';

const inProject = (path: string) => pathToFileURL(`${process.cwd()}/${path}`).href;

describe("the sources' imports, as the command line and sls package load them (deploy/typescript-sources.cjs)", () => {
  it.each([
    ['a TypeScript source of the project', './names.js', inProject('src/input.ts'), './names.ts'],
    ['one level up', '../src/input.js', inProject('local/world.ts'), '../src/input.ts'],
    ['a package, from a source', 'zod/mini', inProject('src/input.ts'), 'zod/mini'],
    ['a JavaScript file of the project', './metafile.js', inProject('deploy/esbuild-plugins.cjs'), './metafile.js'],
    ['a TypeScript file of a package', './index.js', inProject('node_modules/some-package/src/a.ts'), './index.js'],
    ['a TypeScript file elsewhere', './index.js', pathToFileURL('/elsewhere/src/a.ts').href, './index.js'],
    ['no parent (the entry)', './bin/cli.js', undefined, './bin/cli.js'],
  ])('%s (%s)', (_, specifier, parentURL, expected) => {
    expect(sourceSpecifier(specifier, parentURL)).toBe(expected);
  });
});
