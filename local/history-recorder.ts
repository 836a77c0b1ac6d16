import { functionKeyOf, localFunctionArn, type Definition } from './definition.js';
import type { EngineEvent } from './history.js';
import type { HistoryEventRecord } from './emulator/index.js';

/** The fields of aws-local-stepfunctions' events the history reads beyond what the counter reads. */
interface LoggedEvent extends EngineEvent {
  state?: { name: string; input?: unknown; output?: unknown };
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
}

/** Where the recorder puts what it writes: the emulator's Step Functions side. */
export interface HistorySink {
  appendHistory(executionArn: string, event: HistoryEventRecord): void;
  hasHistory(executionArn: string): boolean;
}

/**
 * Writes each execution's history as Step Functions' GetExecutionHistory returns it, from the
 * local engine's event log, in simulated time: ExecutionStarted (or ExecutionRedriven), each
 * state's <Type>StateEntered/Exited, a Lambda Task's LambdaFunctionScheduled/Started/Succeeded
 * or Failed per attempt (TaskScheduled/Started/Succeeded for startExecution), and the closing
 * ExecutionSucceeded, ExecutionFailed or ExecutionAborted. The same events, one for one, that
 * local/history.ts counts. Dates are epoch seconds, as the JSON protocol carries them.
 */
export class HistoryRecorder {
  /** Per execution, the callback Tasks whose failure was caught: no TaskSucceeded at their exit. */
  private readonly caught = new Set<string>();

  private readonly onDisk: Definition;
  private readonly sink: HistorySink;

  constructor(
    onDisk: Definition,
    sink: HistorySink,
  ) {
    this.onDisk = onDisk;
    this.sink = sink;
  }

  /** A callback Task stored its token (the engine's callback handler tells, after the call succeeded). */
  submitted(executionArn: string, stateName: string, atMs: number): void {
    const { resourceType, resource } = sdkResource(this.onDisk.States[stateName] ?? {});
    this.sink.appendHistory(executionArn, { timestamp: atMs / 1000, type: 'TaskSubmitted', taskSubmittedEventDetails: { resourceType, resource, output: '{}', outputDetails: { truncated: false } } });
  }

  record(executionArn: string, event: LoggedEvent, atMs: number, redriveCount: number): void {
    const timestamp = atMs / 1000;
    const write = (type: string, details: Record<string, unknown> = {}) => this.sink.appendHistory(executionArn, { timestamp, type, ...details });
    const stateName = event.state?.name ?? '';
    const definition = this.onDisk.States[stateName] ?? {};
    const type = String(definition.Type ?? 'Task');
    const functionKey = functionKeyOf(definition);
    const json = (value: unknown) => JSON.stringify(value ?? null);
    const { resourceType, resource } = sdkResource(definition);
    const callbackKey = `${executionArn}#${stateName}`;
    const isCallback = resource.endsWith('.waitForTaskToken');
    const scheduled = () => {
      if (isCallback) {
        write('TaskScheduled', { taskScheduledEventDetails: { resourceType, resource, region: 'us-east-1', parameters: json(event.state?.input) } });
        write('TaskStarted', { taskStartedEventDetails: { resourceType, resource } });
      } else if (functionKey) {
        write('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: localFunctionArn(functionKey), input: json(event.state?.input) } });
        write('LambdaFunctionStarted');
      } else {
        write('TaskScheduled', {
          taskScheduledEventDetails: { resourceType: 'states', resource: 'startExecution', region: 'us-east-1', parameters: json(event.state?.input) },
        });
        write('TaskStarted', { taskStartedEventDetails: { resourceType: 'states', resource: 'startExecution' } });
      }
    };

    switch (event.type) {
      case 'ExecutionStarted':
        // A redrive runs the execution again from the state that failed: its history goes on.
        if (redriveCount > 0 && this.sink.hasHistory(executionArn)) write('ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount } });
        else write('ExecutionStarted', { executionStartedEventDetails: { input: json(event.input), inputDetails: { truncated: false } } });
        return;
      case 'ExecutionSucceeded':
        write('ExecutionSucceeded', { executionSucceededEventDetails: { output: json(event.output), outputDetails: { truncated: false } } });
        return;
      case 'ExecutionFailed':
        write('ExecutionFailed', { executionFailedEventDetails: failure(event) });
        return;
      case 'ExecutionTerminated':
        write('ExecutionAborted', { executionAbortedEventDetails: {} });
        return;
      case 'StateEntered':
        write(`${type}StateEntered`, { stateEnteredEventDetails: { name: stateName, input: json(event.state?.input), inputDetails: { truncated: false } } });
        if (type === 'Task') scheduled();
        return;
      case 'StateRetried':
        if (type === 'Task') scheduled();
        return;
      case 'StateCaught':
        if (isCallback) this.caught.add(callbackKey);
        return;
      case 'StateFailed':
        if (type !== 'Task') return;
        if (isCallback && event.Error === 'States.Timeout') write('TaskTimedOut', { taskTimedOutEventDetails: { resourceType, resource, ...failure(event) } });
        else if (isCallback) write('TaskFailed', { taskFailedEventDetails: { resourceType, resource, ...failure(event) } });
        else if (functionKey) write('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: failure(event) });
        else write('TaskFailed', { taskFailedEventDetails: { resourceType: 'states', resource: 'startExecution', ...failure(event) } });
        return;
      case 'StateExited':
        if (type === 'Task' && !(isCallback && this.caught.delete(callbackKey))) {
          const output = json(taskResult(definition, event.state?.output));
          if (isCallback) write('TaskSucceeded', { taskSucceededEventDetails: { resourceType, resource, output, outputDetails: { truncated: false } } });
          else if (functionKey) write('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output, outputDetails: { truncated: false } } });
          else write('TaskSucceeded', { taskSucceededEventDetails: { resourceType: 'states', resource: 'startExecution', output, outputDetails: { truncated: false } } });
        }
        // A Fail state ends the execution without an exit of its own.
        if (type !== 'Fail') {
          write(`${type}StateExited`, { stateExitedEventDetails: { name: stateName, output: json(event.state?.output), outputDetails: { truncated: false } } });
        }
        return;
      default:
        return;
    }
  }
}

/** An AWS SDK integration's resourceType and resource, as its history events name them (`aws-sdk:dynamodb`, `updateItem.waitForTaskToken`). */
function sdkResource(definition: Record<string, unknown>): { resourceType: string; resource: string } {
  const match = typeof definition.Resource === 'string' ? /^arn:aws:states:::aws-sdk:([a-z0-9]+):(.+)$/.exec(definition.Resource) : null;
  return match ? { resourceType: `aws-sdk:${match[1]}`, resource: match[2]! } : { resourceType: 'states', resource: 'startExecution' };
}

function failure(event: LoggedEvent): { error: string; cause: string } {
  const cause = event.Cause;
  return { error: event.Error ?? 'States.Runtime', cause: typeof cause === 'string' ? cause : JSON.stringify(cause ?? '') };
}

/**
 * The Task's own result, before ResultSelector and ResultPath made the state's output of it:
 * `ResultPath: $.run` takes it back out, and a ResultSelector of plain fields
 * (`continuedAs.$: $.ExecutionArn`) is undone field by field.
 */
function taskResult(definition: Record<string, unknown>, stateOutput: unknown): unknown {
  const path = definition.ResultPath;
  const selected =
    typeof path !== 'string' || path === '$'
      ? stateOutput
      : path
          .split('.')
          .slice(1)
          .reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), stateOutput);
  const selector = definition.ResultSelector;
  if (typeof selector !== 'object' || selector === null || typeof selected !== 'object' || selected === null) return selected;
  const raw: Record<string, unknown> = {};
  for (const [key, source] of Object.entries(selector)) {
    const field = typeof source === 'string' ? /^\$\.([A-Za-z0-9_]+)$/.exec(source)?.[1] : undefined;
    if (key.endsWith('.$') && field) raw[field] = (selected as Record<string, unknown>)[key.slice(0, -2)];
  }
  return raw;
}
