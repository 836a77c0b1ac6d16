// One cold start, as Lambda's Node runtime does it: load the handler module, invoke it once.
// Plain JavaScript on purpose: a TypeScript loader would add its own start-up to every sample.
// Prints { importMs, initMs, result }, both times counted from this process's start.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundleFile, eventJson] = process.argv.slice(2);

// The runtime requires a CommonJS handler and imports an ES module one; do the same.
const handlerModule = bundleFile.endsWith('.cjs')
  ? createRequire(import.meta.url)(bundleFile)
  : await import(pathToFileURL(bundleFile).href);
const importMs = performance.now();

const context = {
  functionName: 'codepipeline-sequencer-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:codepipeline-sequencer-bench',
  memoryLimitInMB: '256',
  awsRequestId: 'cold-start',
  logGroupName: '/aws/lambda/codepipeline-sequencer-bench',
  logStreamName: 'cold-start',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 20_000,
};
const result = await handlerModule.handler(JSON.parse(eventJson), context);
const initMs = performance.now();

process.stdout.write(JSON.stringify({ importMs, initMs, result }));
// Open sockets in the SDK's agent would keep the process alive for nothing.
process.exit(0);
