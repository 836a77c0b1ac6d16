'use strict';
// How a run notices a pipeline's end, chosen per stage by the `completion` param, in one place
// for `sls package` (deploy/definition.cjs, deploy/operations.cjs) and the local engine alike.
//
// statemachines/sequencer.asl.yml holds both waits: WaitForPipelines (a Wait state: the poll
// loop) and WaitForPipelineEnd (a callback Task: events). The stage keeps one of them, and every
// transition into the wait goes to that one, so the loop is written once and `poll` runs
// exactly today's states.

const pollWait = 'WaitForPipelines';
const callbackWait = 'WaitForPipelineEnd';
const completions = ['events', 'poll'];

/** Every state's transitions, Choice rules included, retargeted from one state to another. */
function retarget(states, from, to) {
  for (const state of Object.values(states)) {
    if (state.Next === from) state.Next = to;
    if (state.Default === from) state.Default = to;
    for (const rule of [...(state.Choices ?? []), ...(state.Catch ?? [])]) if (rule.Next === from) rule.Next = to;
  }
}

/** The definition a stage with this `completion` runs (a copy; the one given is left alone). */
function forCompletion(definition, completion) {
  if (!completions.includes(completion)) {
    throw new Error(`completion must be one of ${completions.join(', ')}, got ${JSON.stringify(completion)}`);
  }
  const copy = JSON.parse(JSON.stringify(definition));
  if (completion === 'poll') {
    delete copy.States[callbackWait];
  } else {
    delete copy.States[pollWait];
    retarget(copy.States, pollWait, callbackWait);
  }
  return copy;
}

const eventSource = 'aws.codepipeline';
const eventDetailType = 'CodePipeline Pipeline Execution State Change';
/** The states that end an execution, as events spell them (CANCELED; the API says Cancelled). */
const endStates = ['SUCCEEDED', 'FAILED', 'STOPPED', 'SUPERSEDED', 'CANCELED'];

/** The states the rule forwards: those that end an execution, and RESUMED, which reopens a FAILED one. */
const forwardedStates = [...endStates, 'RESUMED'];

/**
 * The rule's event pattern: the stage's pipelines, and only the states that end an execution
 * (RESUMED too, which reopens a FAILED one). The local emulator delivers through this same pattern.
 */
function pipelineEventPattern(pipelines) {
  const states = [...forwardedStates];
  // A pipeline in another account ({ name, arn }) is named in its events by its own CodePipeline name.
  const names = [...new Set(pipelines.map((entry) => (typeof entry === 'string' ? entry : entry.arn.split(':').at(-1))))];
  const named = { source: [eventSource], 'detail-type': [eventDetailType], detail: { pipeline: names, state: states } };
  // A pattern of hundreds of names passes EventBridge's pattern size limit: then every pipeline's
  // ends reach the function, which ignores the executions no run watches.
  if (JSON.stringify(named).length <= maxPatternCharacters) return named;
  return { source: [eventSource], 'detail-type': [eventDetailType], detail: { state: states } };
}

/** EventBridge's limit on an event pattern's size, in characters. */
const maxPatternCharacters = 2048;

module.exports = { pollWait, callbackWait, completions, forCompletion, pipelineEventPattern, eventSource, eventDetailType, endStates, forwardedStates };
