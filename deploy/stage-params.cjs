'use strict';
// Checks every stage param when `sls package` resolves the stack (deploy/operations.cjs calls it
// first), so that a param AWS would refuse at deploy time, or one that would fail every scheduled
// run, stops the package with one line per problem. The rules are src/stage-params.ts, loaded
// through tsx so that the stage config and the schedule's input are checked by the very code the
// functions run, not by a copy of it.
const { require: requireTypeScript } = require('tsx/cjs/api');

const { knownParams, stageParamProblems } = requireTypeScript(require.resolve('../src/stage-params.ts'), module.filename);

async function checkStageParams(resolveVariable) {
  const [stage, allParams] = await Promise.all([resolveVariable('sls:stage'), resolveVariable('self:params')]);
  const params = Object.fromEntries(await Promise.all(knownParams.map(async (key) => [key, await resolveVariable(`param:${key}`)])));
  const own = [...new Set([...Object.keys(allParams?.default ?? {}), ...Object.keys(allParams?.[stage] ?? {})])];
  const problems = stageParamProblems(stage, params, own);
  if (problems.length > 0) throw new Error(`stage '${stage}' cannot be packaged:\n- ${problems.join('\n- ')}`);
  return params;
}

module.exports = { checkStageParams };
