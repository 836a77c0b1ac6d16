import { availableParallelism } from 'node:os';
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
  // much as they compute: three workers for two cores let one file's waits overlap the others'
  // work (measured side by side on 2 cores: the whole suite 0.85 x the wall time of a worker per
  // core, 0.87 x for test/e2e).
  // (jest reads '150%' as 150 workers, so the count is worked out here.)
  maxWorkers: Math.ceil(availableParallelism() * 1.5),
};
