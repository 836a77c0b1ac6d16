import { AlreadyRunning } from './errors.js';
import { looksLikeSuccessor } from './continuation.js';
import { listRunningExecutions } from './stepfunctions.js';

/**
 * Only an older run blocks this one: when two start together, each sees the other, and exactly
 * one of them (the earlier, ties broken by ARN) must go on. A continuation of a train counts as
 * older than any new run: its train began before.
 */
export async function checkSingleFlight(execution: { id: string; stateMachineArn: string; startTime: string }): Promise<void> {
  const ourStart = Date.parse(execution.startTime);
  const others = (await listRunningExecutions(execution.stateMachineArn)).filter((running) => {
    if (running.executionArn === execution.id) return false;
    if (looksLikeSuccessor(running.name)) return true;
    const theirStart = running.startDate?.getTime() ?? Number.NEGATIVE_INFINITY;
    return theirStart < ourStart || (theirStart === ourStart && running.executionArn < execution.id);
  });
  if (others.length > 0) {
    const names = others.map((other) => `${other.name} (started ${other.startDate?.toISOString() ?? 'at an unknown time'})`);
    throw new AlreadyRunning(`another run of this state machine is in progress: ${names.join(', ')}; nothing was started`);
  }
}

/**
 * Single flight (the run lock, or the ListExecutions check: `takeFlight`) for a start the
 * schedule made: with scheduleWhenBusy `skip`, a run in flight is
 * no failure (nobody is paged for the schedule meeting a long run): the answer says which run is
 * in flight, and the execution ends quietly. With `fail`, and for every other start, AlreadyRunning.
 */
export async function checkSingleFlightOrSkip(
  takeFlight: () => Promise<void>,
  scheduled: { whenBusy: 'skip' | 'fail'; at?: string } | undefined,
): Promise<{ reason: string } | undefined> {
  try {
    await takeFlight();
    return undefined;
  } catch (error) {
    if (!(error instanceof AlreadyRunning) || scheduled?.whenBusy !== 'skip') throw error;
    const when = scheduled.at ? ` for ${scheduled.at}` : '';
    return { reason: `the scheduled run${when} was skipped (scheduleWhenBusy: skip): ${error.message}` };
  }
}

/**
 * A redriven execution goes on from where it failed, without DecideOrder: it must not go on
 * beside a run that started while it lay failed. Any other running execution blocks it, and
 * the redrive fails again before it starts or watches anything.
 */
export async function checkAloneForRedrive(execution: { id: string; name: string; stateMachineArn: string }): Promise<void> {
  const others = (await listRunningExecutions(execution.stateMachineArn)).filter((running) => running.executionArn !== execution.id);
  if (others.length > 0) {
    throw new AlreadyRunning(
      `${execution.name} was redriven while another run of this state machine is in progress: ${others.map((other) => other.name).join(', ')}; nothing was started`,
    );
  }
}
