'use strict';
// Checks every stage param when `sls package` resolves the stack (deploy/operations.cjs calls it
// first), so that a param AWS would refuse at deploy time, or one that would fail every scheduled
// run, stops the package with one line per problem. The rules are src/stage-params.ts, loaded as
// TypeScript so that the stage config and the schedule's input are checked by the very code the
// functions run, not by a copy of it.
const { stageRefusal } = require('./refusal.cjs');
const nodeModule = require('node:module');
const { runsTypeScript, sourceSpecifier } = require('./typescript-sources.cjs');

const rules = require.resolve('../src/stage-params.ts');
const { knownParams, stageParamProblems } = loadTypeScript(rules);

/**
 * A TypeScript module of src/, with its imports. The project's Node (24) strips the types itself,
 * as bin/sequencer.js runs the sources; the sources import each other as `./x.js` (NodeNext), so a
 * hook renames those (deploy/typescript-sources.cjs). tsx did the same work by
 * turning every file on the way (zod's hundred among them) into CommonJS with esbuild, at each
 * package: 0.6 to 1.1 s against 0.3 s (0.1 s with Node's compile cache, as the tests run sls).
 * An older Node without type stripping or module hooks still gets tsx.
 */
function loadTypeScript(file) {
  if (!runsTypeScript()) {
    return require('tsx/cjs/api').require(file, module.filename);
  }
  nodeModule.registerHooks({
    resolve: (specifier, context, nextResolve) => nextResolve(sourceSpecifier(specifier, context.parentURL), context),
  });
  return require(file);
}

async function checkStageParams(resolveVariable) {
  const [stage, allParams] = await Promise.all([resolveVariable('sls:stage'), resolveVariable('self:params')]);
  const params = Object.fromEntries(await Promise.all(knownParams.map(async (key) => [key, await resolveVariable(`param:${key}`)])));
  const stageOwn = allParams?.[stage] ?? {};
  const own = [...new Set([...Object.keys(allParams?.default ?? {}), ...Object.keys(stageOwn)])];
  // Each problem names where the param is written, the stage's own params or default's, as a local run names it.
  const ownerOf = (name) => (Object.hasOwn(stageOwn, name) ? stage : 'default');
  const problems = stageParamProblems(stage, params, own, { ownerOf });
  if (problems.length > 0) throw stageRefusal(`stage '${stage}' cannot be packaged:\n- ${problems.join('\n- ')}`);
  return params;
}

module.exports = { checkStageParams };
