// The executions a member superseded, as the run state keeps them and a person reads them.
// Without the command line's schema or SDK: bin/summary.ts reads them too.
import type { Member } from './run.js';

/**
 * How many superseded executions a member lists: ours, which the sequencer started, and the
 * latest; the others between them are counted. Followed for weeks in a busy repository, a
 * pipeline may be superseded hundreds of times, and every id kept would stay in the run state
 * (and each result of the train) to the end.
 */
export const keptSupersededIds = 3;

/** The member's superseded executions once its current one is superseded too. */
export function supersededBy(member: Member): Pick<Member, 'supersededExecutionIds' | 'supersededOmitted'> {
  const all = [...member.supersededExecutionIds, member.pipelineExecutionId!];
  const dropped = Math.max(0, all.length - keptSupersededIds);
  const omitted = (member.supersededOmitted ?? 0) + dropped;
  const [ours, ...newer] = all;
  return { supersededExecutionIds: [ours!, ...newer.slice(dropped)], ...(omitted > 0 && { supersededOmitted: omitted }) };
}

/** `a, b, c`, or `a, d, e and 2 others` (ours first, then the latest). */
export const supersededList = (ids: readonly string[], omitted = 0) => `${ids.join(', ')}${omitted > 0 ? ` and ${omitted} others` : ''}`;
