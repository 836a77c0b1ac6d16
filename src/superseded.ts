// The executions a member superseded, as the run state keeps them and a person reads them.
// Without the command line's schema or SDK: bin/summary.ts reads them too.
import type { Member } from './run.js';

/**
 * How many superseded executions a member lists: the latest, the others counted. Followed for
 * weeks in a busy repository, a pipeline may be superseded hundreds of times, and every id kept
 * would stay in the run state (and each result of the train) to the end.
 */
export const keptSupersededIds = 3;

/** The member's superseded executions once its current one is superseded too. */
export function supersededBy(member: Member): Pick<Member, 'supersededExecutionIds' | 'supersededOmitted'> {
  const all = [...member.supersededExecutionIds, member.pipelineExecutionId!];
  const dropped = Math.max(0, all.length - keptSupersededIds);
  const omitted = (member.supersededOmitted ?? 0) + dropped;
  return { supersededExecutionIds: all.slice(dropped), ...(omitted > 0 && { supersededOmitted: omitted }) };
}

/** `a, b, c`, or `a, b, c and 4 before them`. */
export const supersededList = (ids: readonly string[], omitted = 0) => `${ids.join(', ')}${omitted > 0 ? ` and ${omitted} before them` : ''}`;
