import { quoted } from './field-path.js';

/** CodePipeline's own rules (API reference: PipelineName, PipelineVariable, ClientRequestToken). */
export const pipelineNamePattern = /^[A-Za-z0-9.@\-_]{1,100}$/;
export const variableNamePattern = /^[A-Za-z0-9@\-_]{1,128}$/;
export const maxVariableValueLength = 1000;
export const maxVariablesPerExecution = 50;
export const maxPipelinesPerRun = 100;
export const sequenceNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A group (pipelines that run at the same time) holds 2 to 10 members. One look at a group is
 * one check-status invocation that asks CodePipeline about every due member at once; ten
 * concurrent GetPipelineExecution calls (each with up to 4 SDK attempts) fit well inside the
 * function's timeout and stay gentle on CodePipeline's per-account API rate limits, which all
 * members of all groups share.
 */
export const maxGroupSize = 10;

/**
 * The longest one pipeline may run before the run fails with PipelineTimedOut: 60 days. No
 * single CodePipeline action waits longer (a manual approval's timeout is configurable up to
 * 86,400 minutes; every other action type times out within 5 days), and a train that must wait
 * longer is better split. The history limit does not bound it: the run continues as new.
 */
export const maxPipelineTimeoutSeconds = 60 * 86_400;

/** Step Functions' limit on an execution's name (StartExecution: 1 to 80 characters). */
export const maxExecutionNameLength = 80;

/** Step Functions' limit on an execution's input (StartExecution: 256 KiB, UTF-8). */
export const maxExecutionInputBytes = 262_144;

/**
 * A refused name as the refusal shows it (quoted: a JSON string with every character that does not
 * show escaped), a long one cut, so that ten of them stay a readable cause.
 */
export function shownName(name: string): string {
  const characters = [...name];
  // Cut between characters, never inside a surrogate pair.
  return characters.length > 120 ? `${quoted(characters.slice(0, 100).join(''))}… (${characters.length} characters)` : quoted(name);
}
