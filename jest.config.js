import { createDefaultEsmPreset } from 'ts-jest';

// Native ESM all the way (Middy 7 and aws-local-stepfunctions are ESM-only);
// type checking is `tsc --noEmit`'s job, so ts-jest only transpiles.
const preset = createDefaultEsmPreset({ tsconfig: { isolatedModules: true }, diagnostics: false });

export default {
  ...preset,
  // jest-environment-node with an ordinary global object: test/environment.js says why.
  testEnvironment: '<rootDir>/test/environment.js',
  roots: ['<rootDir>/test'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  testTimeout: 30000,
  // The end-to-end tests wait on child processes, paced emulators and the SDK's backoff about as
  // much as they compute: a worker per core (jest's default keeps one core for itself, which
  // only hands out files) lets one file's waits overlap another's work.
  maxWorkers: '100%',
};
