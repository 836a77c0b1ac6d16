import { createRequire } from 'node:module';
import { projectRoot } from './stage.js';
import { readYamlFile } from './yaml-file.js';

/** deploy/completion.cjs: the same choice of wait `sls package` makes. */
export const completionModule = createRequire(import.meta.url)('../deploy/completion.cjs') as {
  forCompletion: (definition: Definition, completion: 'events' | 'poll') => Definition;
  pipelineEventPattern: (pipelines: readonly (string | { name: string; arn: string })[]) => EventPattern;
  callbackWait: string;
  endStates: string[];
  forwardedStates: string[];
};

/** An EventBridge event pattern of exact values, as the rule in deploy/ is written. */
export type EventPattern = { [field: string]: string[] | EventPattern };

/** The ASL as written on disk: Task resources are `{ Fn::GetAtt: [functionKey, Arn] }`. */
export interface Definition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  [field: string]: unknown;
}

export const definitionPath = `${projectRoot}statemachines/sequencer.asl.yml`;

/** The definition a stage with this `completion` deploys (`events`, the default, unless its params say `poll`). */
export function loadDefinition(completion: 'events' | 'poll' = 'events'): Definition {
  return completionModule.forCompletion(readYamlFile(definitionPath) as Definition, completion);
}

export const localFunctionArn = (functionKey: string) =>
  `arn:aws:lambda:us-east-1:123456789012:function:codepipeline-sequencer-local-${functionKey}`;

/** The function key behind a Task's `Fn::GetAtt: [key, Arn]`, or undefined for any other resource. */
export function functionKeyOf(state: Record<string, unknown>): string | undefined {
  const resource = state.Resource as { 'Fn::GetAtt'?: unknown } | undefined;
  const getAtt = resource?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

export interface LocalDefinition {
  definition: Definition;
  /** Task state name → the serverless.yml function key it invokes. */
  tasks: Record<string, string>;
  /** Wait state name → how many seconds it waits, read from its input. */
  waits: Record<string, (input: unknown) => number>;
  /** Task states that start this state machine again (`states:startExecution`): the engine serves them. */
  continuations: Record<string, true>;
  /** `.waitForTaskToken` Tasks: the engine makes their DynamoDB call and waits for SendTaskSuccess in simulated time. */
  callbacks: Record<string, true>;
}

/** What the local copy of a callback Task hands its handler beside the call's own parameters. */
export const localCallbackFields = { timeoutSeconds: 'LocalTimeoutSeconds', token: '<local task token>' } as const;

/** aws-local-stepfunctions races every Task with a real-time timer (60 s unless told): a callback wait runs in simulated time, so give it the longest timer Node keeps. */
const realTimeBoundSeconds = 2_000_000;

const callbackSuffix = '.waitForTaskToken';

const startExecutionResource = 'arn:aws:states:::states:startExecution';

/**
 * The same definition, adapted in memory for the local engine and nothing else changed:
 * each `Fn::GetAtt` resource becomes a plain Lambda ARN (served by the real handler in this
 * process), and each Wait becomes a Task of the same name and transitions whose work is to
 * advance the simulated clock by the Wait's seconds instead of sleeping. A startExecution Task
 * names this state machine through CloudFormation (`Fn::Sub`); locally it is `stateMachineArn`.
 */
export function localizeDefinition(onDisk: Definition, stateMachineArn: string, tableName = 'codepipeline-sequencer-local-completion'): LocalDefinition {
  const tasks: Record<string, string> = {};
  const waits: Record<string, (input: unknown) => number> = {};
  const continuations: Record<string, true> = {};
  const callbacks: Record<string, true> = {};
  const states: Definition['States'] = {};
  // A deep copy: the engine's validator writes defaults into the definition it is given. JSON,
  // not structuredClone: under jest the latter builds objects of another realm, which the
  // engine's payload templates do not recognise as objects.
  const copy = JSON.parse(JSON.stringify(onDisk)) as Definition;
  for (const [name, state] of Object.entries(copy.States)) {
    const functionKey = functionKeyOf(state);
    if (state.Type === 'Task' && functionKey) {
      tasks[name] = functionKey;
      states[name] = { ...state, Resource: localFunctionArn(functionKey) };
    } else if (state.Type === 'Task' && state.Resource === startExecutionResource) {
      continuations[name] = true;
      states[name] = { ...state, Parameters: { ...(state.Parameters as Record<string, unknown>), StateMachineArn: stateMachineArn } };
    } else if (state.Type === 'Task' && typeof state.Resource === 'string' && state.Resource.endsWith(callbackSuffix)) {
      callbacks[name] = true;
      states[name] = localCallback(name, state, tableName);
    } else if (state.Type === 'Wait') {
      waits[name] = waitSecondsReader(name, state);
      const { Seconds, SecondsPath, ...transitions } = state;
      states[name] = { ...transitions, Type: 'Task', Resource: localFunctionArn('simulated-wait') };
    } else {
      states[name] = state;
    }
  }
  return { definition: { ...copy, States: states }, tasks, waits, continuations, callbacks };
}

/**
 * A callback Task, for the engine's handler: the table is the local one, the token a placeholder
 * the engine replaces with a fresh token per wait ($$.Task.Token is fixed per run in the local
 * engine's context), and the timeout travels in the input, to be raced on the simulated clock.
 */
function localCallback(name: string, state: Record<string, unknown>, tableName: string): Record<string, unknown> {
  const { TimeoutSecondsPath, TimeoutSeconds, ...rest } = state;
  const parameters = JSON.parse(JSON.stringify(state.Parameters ?? {})) as Record<string, unknown>;
  const values = parameters.ExpressionAttributeValues as Record<string, Record<string, unknown>> | undefined;
  const tokenEntry = Object.values(values ?? {}).find((value) => value['S.$'] === '$$.Task.Token');
  if (!tokenEntry) throw new Error(`callback Task ${name}: the local engine expects the token in ExpressionAttributeValues as S.$: $$.Task.Token`);
  delete tokenEntry['S.$'];
  tokenEntry.S = localCallbackFields.token;
  const timeout =
    typeof TimeoutSecondsPath === 'string'
      ? { [`${localCallbackFields.timeoutSeconds}.$`]: TimeoutSecondsPath }
      : { [localCallbackFields.timeoutSeconds]: TimeoutSeconds ?? 99_999_999 };
  return {
    ...rest,
    Resource: localFunctionArn('callback-task'),
    Parameters: { ...parameters, TableName: tableName, ...timeout },
    TimeoutSeconds: realTimeBoundSeconds,
  };
}

/** The longest a Wait state may wait (Amazon States Language: Seconds, SecondsPath). */
const maxWaitSeconds = 99_999_999;

function waitSecondsReader(name: string, state: Record<string, unknown>): (input: unknown) => number {
  if (typeof state.Seconds === 'number') {
    const seconds = state.Seconds;
    return () => seconds;
  }
  const path = state.SecondsPath;
  if (typeof path !== 'string' || !/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) {
    throw new Error(`Wait state ${name}: the local engine reads Seconds or a dotted SecondsPath, got ${JSON.stringify(path)}`);
  }
  const keys = path.split('.').slice(1);
  return (input) => {
    const value = keys.reduce<unknown>(
      (node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined),
      input,
    );
    // As Step Functions: SecondsPath must select a whole number of seconds, 0 to 99,999,999.
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > maxWaitSeconds) {
      throw Object.assign(new Error(`Wait state ${name}: ${path} is ${JSON.stringify(value)}, not a whole number of seconds from 0 to ${maxWaitSeconds}`), {
        name: 'States.Runtime',
      });
    }
    return value;
  };
}
