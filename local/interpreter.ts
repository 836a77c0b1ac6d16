import { createRequire } from 'node:module';

/**
 * `require` as aws-local-stepfunctions' own code resolves it: its nested asl-validator (not the
 * project's newer one), its SDK Lambda client, its package.json. The engine reads the versions
 * its definition check depends on through it, and the stand-ins of local/interpreter-imports/
 * load the real packages through it.
 */
export const interpreterRequire = createRequire(createRequire(import.meta.url).resolve('aws-local-stepfunctions'));
