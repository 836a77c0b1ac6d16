import { parseWorld, type World } from '../local/world.js';
import { seededRandom } from './stats.js';

/** Change it and every figure below changes with it; it is printed with the results. */
export const workloadSeed = 20_260_101;

const pipelineCount = 20;
const shortestTypicalSeconds = 2 * 60;
const longestTypicalSeconds = 3 * 3600;
/** Past runs and the measured run land within this fraction of the pipeline's typical duration. */
const durationNoise = 0.1;
const approvalSeconds = 7 * 24 * 3600;

export const approvalPipelineName = 'weekly-approval';

export interface Workload {
  seed: number;
  world: World;
  /** The same pipelines with no past runs to learn from. */
  worldWithoutHistory: World;
  /** The 20 ordinary pipelines, run in this order as one execution. */
  order: string[];
  pipelines: { name: string; typicalSeconds: number; durationSeconds: number; history: number[] }[];
  approval: { name: string; durationSeconds: number };
}

/**
 * Twenty pipelines whose typical durations are spread log-uniformly from 2 minutes to 3 hours
 * (as many quick service pipelines as slow platform ones), each with 3 to 5 past successes and
 * a run that ends near its typical duration, so sometimes outside its own history. One draw
 * per twentieth of the log range: twenty free draws can leave the slow end empty. The order
 * is then shuffled, so that run order says nothing about duration.
 *
 * Plus a manual approval that waits 7 days, with no history: how long an approval waits is a
 * person's response time, not a property of the pipeline, and a pipeline that first reaches an
 * approval has none. Without history the project falls back to its back-off, the path its
 * 7-day promise rests on.
 */
export function buildWorkload(seed = workloadSeed): Workload {
  const random = seededRandom(seed);
  const near = (seconds: number) => Math.round(seconds * (1 - durationNoise + 2 * durationNoise * random()));
  const logSpan = Math.log(longestTypicalSeconds / shortestTypicalSeconds);
  const typicalDurations = Array.from({ length: pipelineCount }, (_, stratum) =>
    Math.round(shortestTypicalSeconds * Math.exp((logSpan * (stratum + random())) / pipelineCount)),
  );
  for (let index = typicalDurations.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [typicalDurations[index], typicalDurations[other]] = [typicalDurations[other]!, typicalDurations[index]!];
  }
  const pipelines = typicalDurations.map((typicalSeconds, index) => {
    const historyLength = 3 + Math.floor(random() * 3);
    const history = Array.from({ length: historyLength }, () => near(typicalSeconds));
    return { name: `service-${String(index + 1).padStart(2, '0')}`, typicalSeconds, durationSeconds: near(typicalSeconds), history };
  });
  const approval = { name: approvalPipelineName, durationSeconds: approvalSeconds };
  const worldOf = (withHistory: boolean) =>
    parseWorld(
      {
        startTime: '2026-01-05T06:00:00Z',
        pipelines: [
          ...pipelines.map(({ name, durationSeconds, history }) => ({ name, durationSeconds, ...(withHistory ? { history } : {}) })),
          { name: approval.name, durationSeconds: approval.durationSeconds },
        ],
      },
      'benchmark workload',
    );
  return { seed, world: worldOf(true), worldWithoutHistory: worldOf(false), order: pipelines.map((pipeline) => pipeline.name), pipelines, approval };
}
