'use strict';
// The state machine definition sls deploys: statemachines/sequencer.asl.yml, with a
// TimeoutSeconds on every Task that calls one of our functions, longer than that function's
// own timeout by a margin.
//
// Why the margin: when a Task's TimeoutSeconds equals its function's timeout (what
// serverless-step-functions' configureTaskTimeouts writes), Step Functions can give up on an
// invocation that Lambda is still running (cold start and the Invoke call itself count against
// the Task, not against the function), retry it, and run the function twice at once. With the
// margin, a slow function is stopped by Lambda first, and the Task sees Lambda's own error.
// Lambda allows up to 10 s for a cold start's init phase, outside the function's timeout.
//
// A TimeoutSeconds written in the ASL is kept, and refused if it leaves less than the margin.
const { readFileSync } = require('node:fs');
const { parse } = require('yaml');
const { completions, forCompletion } = require('./completion.cjs');
const { stageRefusal } = require('./refusal.cjs');

const taskTimeoutMarginSeconds = 10;
const definitionFile = require.resolve('../statemachines/sequencer.asl.yml');

/** The function a Task invokes: `Fn::GetAtt: [fn, Arn]`, or arn:aws:states:::lambda:invoke with FunctionName. */
function invokedFunction(state) {
  const target =
    typeof state.Resource === 'string' && state.Resource.startsWith('arn:aws:states:::lambda:invoke')
      ? state.Parameters?.FunctionName ?? state.Arguments?.FunctionName
      : state.Resource;
  const getAtt = target && typeof target === 'object' ? target['Fn::GetAtt'] : undefined;
  return Array.isArray(getAtt) ? getAtt[0] : undefined;
}

/** Every Task state, also inside Parallel branches and Map item processors. */
function* taskStates(states) {
  for (const [name, state] of Object.entries(states ?? {})) {
    if (state.Type === 'Task') yield [name, state];
    for (const branch of state.Branches ?? []) yield* taskStates(branch.States);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) yield* taskStates(processor.States);
  }
}

/** Adds each Lambda Task's TimeoutSeconds; `functions` is serverless.yml's functions section. */
function withTaskTimeouts(definition, functions) {
  for (const [name, state] of taskStates(definition.States)) {
    const functionKey = invokedFunction(state);
    if (functionKey === undefined || !functions[functionKey]) continue;
    const functionTimeout = functions[functionKey].timeout;
    if (typeof functionTimeout !== 'number') {
      throw new Error(`functions.${functionKey}.timeout must be set: the Task '${name}' times out a margin after it`);
    }
    const wanted = functionTimeout + taskTimeoutMarginSeconds;
    if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = wanted;
    } else if (typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds < wanted) {
      throw new Error(
        `Task '${name}' has TimeoutSeconds ${state.TimeoutSeconds}, but ${functionKey} may run ${functionTimeout} s: ` +
          `give the Task at least ${wanted} s (the function's timeout plus ${taskTimeoutMarginSeconds} s)`,
      );
    }
  }
  return definition;
}

module.exports = {
  taskTimeoutMarginSeconds,
  withTaskTimeouts,
  definition: async ({ resolveVariable }) => {
    const completion = await resolveVariable('param:completion');
    // The stage-params check names a wrong value with the rest of the stage's problems; here it
    // only must not come with osls's stack after it.
    if (!completions.includes(completion)) {
      throw stageRefusal(`params.${await resolveVariable('sls:stage')}.completion is ${JSON.stringify(completion)}: must be 'events' or 'poll'`);
    }
    return withTaskTimeouts(forCompletion(parse(readFileSync(definitionFile, 'utf8')), completion), await resolveVariable('self:functions'));
  },
};
