/** The part of aws-local-stepfunctions' event log this counter reads (its type is not exported). */
export interface EngineEvent {
  type: string;
  state?: { name: string; input?: unknown };
  /** StateFailed: the error's name. */
  Error?: string;
}

/** Step Functions fails a Standard execution whose history would pass this many events: the one budget the handlers count against. */
export { historyEventLimit } from '../src/history-budget.js';

/**
 * Counts the history events and state transitions Step Functions would record, from the
 * local engine's own event log. Per AWS: ExecutionStarted and the closing event count one
 * each; every state writes its Entered and Exited events; a Lambda Task also writes
 * LambdaFunctionScheduled, Started and Succeeded (or Failed) for each attempt; a Fail state
 * writes only FailStateEntered before ExecutionFailed. Every state entered, and every retry,
 * is a billed state transition. (The engine reports a failed attempt as StateFailed, then
 * StateRetried when it tries again.)
 */
export class HistoryCounter {
  events = 0;
  transitions = 0;

  /** Callback Tasks whose failure was caught: their exit writes TaskStateExited alone. */
  private readonly caught = new Set<string>();

  private readonly typeOf: (stateName: string) => string | undefined;
  private readonly isCallback: (stateName: string) => boolean;

  /**
   * `typeOf` gives the state's type in the definition on disk (a local Wait runs as a Task);
   * `isCallback` names the `.waitForTaskToken` Tasks, which write TaskSubmitted too.
   */
  constructor(
    typeOf: (stateName: string) => string | undefined,
    isCallback: (stateName: string) => boolean = () => false,
  ) {
    this.typeOf = typeOf;
    this.isCallback = isCallback;
  }

  record(event: EngineEvent): void {
    switch (event.type) {
      case 'ExecutionStarted':
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
        this.events += 1;
        return;
      case 'StateEntered':
        this.events += 1;
        this.transitions += 1;
        return;
      case 'StateRetried':
        // The failed attempt's events were counted at StateFailed; a retry is billed, not logged.
        this.transitions += 1;
        return;
      case 'StateFailed':
        // A callback Task that timed out had submitted its token: Scheduled, Started, Submitted, TimedOut.
        if (this.callback(event)) this.events += event.Error === 'States.Timeout' ? 4 : 3;
        else this.events += this.isLambdaTask(event.state?.name) ? 3 : 0;
        return;
      case 'StateCaught':
        if (this.callback(event)) this.caught.add(event.state!.name);
        return;
      case 'StateExited':
        if (this.callback(event)) {
          // Scheduled, Started, Submitted, Succeeded and Exited; after a caught failure, Exited alone.
          this.events += this.caught.delete(event.state!.name) ? 1 : 5;
          return;
        }
        this.events += this.isLambdaTask(event.state?.name) ? 4 : 1;
        return;
      default:
        return;
    }
  }

  private callback(event: EngineEvent): boolean {
    return event.state !== undefined && this.isCallback(event.state.name);
  }

  private isLambdaTask(stateName: string | undefined): boolean {
    return stateName !== undefined && this.typeOf(stateName) === 'Task';
  }
}
