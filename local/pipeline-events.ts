import { createHash } from 'node:crypto';
import type { SimulatedClock } from './clock.js';
import type { EventPattern } from './definition.js';
import { retryOvertakenAt, worldChangesAt, type PipelineStateChange } from './emulator/codepipeline.js';
import type { CodePipelineLocation } from './emulator/index.js';
import type { EventDelivery } from './world.js';

/** A state change, and where its pipeline is: the account and region its event carries. */
export interface LocatedChange extends PipelineStateChange {
  accountId: string;
  region: string;
}

/**
 * "CodePipeline Pipeline Execution State Change", shaped as EventBridge delivers it (CodePipeline
 * User Guide, "Monitoring CodePipeline events"). A target account's rule forwards the event as it
 * is: on the hub's bus it still carries the pipeline's own account and region, and
 * `detail.pipeline` is its own CodePipeline name, whatever the stage calls it.
 */
export function pipelineEvent(change: LocatedChange, id: string): Record<string, unknown> {
  const { accountId, region } = change;
  return {
    version: '0',
    id,
    'detail-type': 'CodePipeline Pipeline Execution State Change',
    source: 'aws.codepipeline',
    account: accountId,
    time: new Date(change.at).toISOString(),
    region,
    resources: [`arn:aws:codepipeline:${region}:${accountId}:${change.pipelineName}`],
    detail: {
      pipeline: change.pipelineName,
      'execution-id': change.pipelineExecutionId,
      'start-time': new Date(change.startedAt).toISOString(),
      state: change.state,
      version: 1,
      'pipeline-execution-attempt': change.attempt ?? 1,
      ...(change.state === 'STARTED' && { 'execution-trigger': { 'trigger-type': 'StartPipelineExecution', 'trigger-detail': 'codepipeline-sequencer' } }),
    },
  };
}

/** EventBridge's matching for patterns of exact values: every field the pattern names must hold one of its values. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  return Object.entries(pattern).every(([field, wanted]) => {
    const value = (event as Record<string, unknown>)[field];
    return Array.isArray(wanted) ? wanted.includes(value as string) : matchesPattern(wanted, value);
  });
}

/** What the bus did with each change, for tests and the bench. */
export interface BusRecord {
  change: LocatedChange;
  /** `unforwarded`: the pipeline's account does not forward its events, so the hub's bus never sees this one. */
  fate: 'delivered' | 'dropped' | 'off' | 'filtered' | 'obsolete' | 'unforwarded';
  deliveredAt: number[];
}

/**
 * The local EventBridge default bus for CodePipeline's events: each execution's state change, in
 * the hub's CodePipeline and in every other account's and region's, is emitted at its instant of
 * simulated time (checked against the execution's status then, since a
 * stop or a newer execution can change an execution's course), passed through the world's
 * delivery knobs, matched against the deployed rule's own pattern, and delivered to the event
 * function, after a delay, on the clock. An account that does not forward its events emits
 * nothing to this bus. `onEnd` hears every end, delivered, forwarded or not (the sweeper).
 */
export class LocalEventBus {
  private readonly scheduled = new Set<string>();
  readonly records: BusRecord[] = [];
  private sequence = 0;

  private readonly clock: SimulatedClock;
  private readonly locations: () => CodePipelineLocation[];
  private readonly knobs: EventDelivery;
  private readonly pattern: EventPattern;
  private readonly deliver: (event: Record<string, unknown>) => Promise<void>;
  private readonly onEnd: (change: LocatedChange) => void;
  private readonly eventStateOf: Record<string, string>;

  constructor(
    clock: SimulatedClock,
    locations: () => CodePipelineLocation[],
    knobs: EventDelivery,
    pattern: EventPattern,
    deliver: (event: Record<string, unknown>) => Promise<void>,
    onEnd: (change: LocatedChange) => void,
    eventStateOf: Record<string, string>,
  ) {
    this.clock = clock;
    this.locations = locations;
    this.knobs = knobs;
    this.pattern = pattern;
    this.deliver = deliver;
    this.onEnd = onEnd;
    this.eventStateOf = eventStateOf;
  }

  /** Schedules every state change not scheduled yet; call it after anything that may add some. */
  scan(): void {
    for (const location of this.locations()) {
      for (const stateChange of location.codePipeline.stateChanges()) {
        const change: LocatedChange = { ...stateChange, accountId: location.accountId, region: location.region };
        const key = this.keyOf(change);
        if (this.scheduled.has(key)) continue;
        this.scheduled.add(key);
        this.clock.schedule(change.at, () => this.emit(change, location));
      }
    }
  }

  /**
   * The change's identity: the hub's as before (so the hub's worlds replay the same deliveries),
   * another account's prefixed with where it is, since namesakes live in several accounts; a
   * retry's (attempt 2 on) with its attempt, since a retry can fail again and be retried again.
   */
  private keyOf(change: LocatedChange, suffix = ''): string {
    const where = this.locations()[0];
    const prefix = where && where.accountId === change.accountId && where.region === change.region ? '' : `${change.accountId}/${change.region}/`;
    const attempt = (change.attempt ?? 1) > 1 ? `#${change.attempt}` : '';
    return `${prefix}${change.pipelineName}#${change.pipelineExecutionId}#${change.state}${attempt}${suffix}`;
  }

  private emit(change: LocatedChange, location: CodePipelineLocation): void {
    this.scan();
    if (change.state === worldChangesAt) return;
    // No event announces it: only the sweeper, at its next tick, can notice it.
    if (change.state === retryOvertakenAt) {
      this.onEnd(change);
      return;
    }
    const status = location.codePipeline.statusNow(change.pipelineName, change.pipelineExecutionId);
    const record: BusRecord = { change, fate: 'delivered', deliveredAt: [] };
    this.records.push(record);
    // RESUMED (a retried stage) leaves the execution InProgress, which the API has no other word for.
    const expected = status === 'InProgress' && change.state === 'RESUMED' ? 'RESUMED' : status === undefined ? undefined : this.eventStateOf[status];
    if (expected !== change.state) {
      // The change did not happen after all (a stop overtook the scripted end): CodePipeline never announces it.
      record.fate = 'obsolete';
      this.scheduled.delete(this.keyOf(change));
      return;
    }
    if (!['STARTED', 'STOPPING'].includes(change.state)) this.onEnd(change);
    if (!location.forwardsEvents) {
      // Its account's bus has the event, and no rule sends it on: only the sweeper notices this end.
      record.fate = 'unforwarded';
      return;
    }
    if (this.knobs.off) {
      record.fate = 'off';
      return;
    }
    if (this.dropped(change)) {
      record.fate = 'dropped';
      return;
    }
    const event = pipelineEvent(change, this.eventId(change));
    if (!matchesPattern(this.pattern, event)) {
      record.fate = 'filtered';
      return;
    }
    const copies = this.draw(change, 'duplicate') < this.knobs.duplicate ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1) {
      const late = this.knobs.lateSeconds?.[change.state] ?? 0;
      const delayMs = (this.delaySeconds(change, copy) + this.draw(change, `order${copy}`) * this.knobs.outOfOrder + late) * 1000;
      this.clock.schedule(this.clock.now() + delayMs, async () => {
        record.deliveredAt.push(this.clock.now());
        await this.deliver(event);
      });
    }
  }

  /**
   * `pipelines` and `states` choose the events a drop applies to (each, where given, narrows it),
   * and `rate` is the share of those it drops (all of them without a rate): `{ pipelines: [P2],
   * states: [SUCCEEDED], rate: 0.1 }` drops a tenth of P2's SUCCEEDED events and nothing else.
   */
  private dropped(change: LocatedChange): boolean {
    const { drop } = this.knobs;
    if (!drop) return false;
    if (drop.pipelines !== undefined && !drop.pipelines.includes(change.pipelineName)) return false;
    if (drop.states !== undefined && !drop.states.includes(change.state)) return false;
    return drop.rate === undefined || this.draw(change, 'drop') < drop.rate;
  }

  private delaySeconds(change: LocatedChange, copy: number): number {
    const { delaySeconds } = this.knobs;
    if (typeof delaySeconds === 'number') return delaySeconds;
    const [min, max] = delaySeconds;
    return min + (max - min) * this.draw(change, `delay${copy}`);
  }

  /** A number in [0, 1) fixed by the change and the purpose: the same world replays the same deliveries. */
  private draw(change: LocatedChange, purpose: string): number {
    const digest = createHash('sha256').update(this.keyOf(change, `#${purpose}`)).digest();
    return digest.readUInt32BE(0) / 2 ** 32;
  }

  private eventId(change: LocatedChange): string {
    this.sequence += 1;
    const hex = createHash('sha256').update(`${change.pipelineExecutionId}#${change.state}#${this.sequence}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }
}
