import { availableParallelism } from 'node:os';
import { createDefaultEsmPreset } from 'ts-jest';

// npm's scripts put the project's Node 24 first on the PATH; jest started by an older Node (the
// machine's own, `node node_modules/jest/bin/jest.js`) failed every end-to-end test with
// ECONNREFUSED instead of saying why. The versions are package.json's engines field.
const [major, minor] = process.versions.node.split('.').map(Number);
if (!(major >= 24 || (major === 22 && minor >= 13))) {
  throw new Error(
    `the tests need Node ^22.13.0 or >=24 (package.json engines), and this is ${process.version}: run them with npm test, which puts the project's Node 24 first on the PATH`,
  );
}

// Native ESM all the way (Middy 7 and aws-local-stepfunctions are ESM-only);
// type checking is `tsc --noEmit`'s job, so ts-jest only transpiles.
const preset = createDefaultEsmPreset({ tsconfig: { isolatedModules: true }, diagnostics: false });

export default {
  ...preset,
  // jest-environment-node with an ordinary global object: test/environment.js says why.
  testEnvironment: '<rootDir>/test/environment.js',
  roots: ['<rootDir>/test'],
  // The local engine's interpreter gets the command line's stand-ins: test/resolver.cjs says why.
  resolver: '<rootDir>/test/resolver.cjs',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  testTimeout: 30000,
  // The end-to-end tests wait on child processes, paced emulators and the SDK's backoff about as
  // much as they compute: more workers than cores let one file's waits overlap the others' work.
  // Measured side by side on 2 cores: three workers took 0.85 x the wall time of a worker per core
  // for the whole suite, 0.87 x for test/e2e; four took test/e2e in 54 to 56 s against 58 to 65 s
  // for three (four runs each, alternated), and the whole suite in the same time (99 s and 97 s).
  maxWorkers: availableParallelism() * 2,
};
