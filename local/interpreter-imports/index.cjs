// What aws-local-stepfunctions, the local engine's interpreter, is handed in place of three of the
// packages its ES module imports: the files beside this one, in the command line (the resolve hook
// of bin/sequencer.js) and in the tests (test/resolver.cjs) alike, so that the tests run the engine
// the command runs. Only the interpreter's own imports are redirected: each stand-in loads the real
// package with a require from the interpreter's place, which passes through.
// - asl-validator and the SDK's Lambda client are loaded on their first use. A local run seldom or
//   never calls them (the engine checks a definition once and remembers it, local/engine.ts; it runs
//   the handlers itself), and importing them was about 45 ms of every run's start.
// - jsonpath-plus: the interpreter calls JSONPath without `new`, which for every value that is not
//   an object (each Choice's variable, a Wait's seconds) throws and catches an Error to hand it
//   back; the stand-in asks for the same evaluation without the throw (about 10 x cheaper a call,
//   and the polled trains of the e2e tests make about 150,000).
module.exports = {
  'asl-validator': 'asl-validator.ts',
  '@aws-sdk/client-lambda': 'client-lambda.ts',
  'jsonpath-plus': 'jsonpath-plus.ts',
};
