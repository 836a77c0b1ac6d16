/**
 * THE PLACE TO EDIT: how this team decides the order of its pipelines for a run.
 *
 * `chooseOrder` gets the validated execution input, the stage's named sequences and the
 * time the run started, and returns the pipeline names in the order they must run. Whatever
 * it returns is then checked like user input (names, duplicates, allowed for the stage,
 * existing) before anything starts, so a bug here fails the run cleanly, never half-way.
 *
 * The default: an explicit `order` wins, else the named `sequence`, else the stage's default
 * sequence. See the README ("Changing the order logic") for a worked example. `sequencer start`
 * checks an input's own `order` before StartExecution as this default runs it, unchanged
 * (src/order-checks.ts, checkGivenOrder): a policy that rewrites a given order changes that too.
 */
import { InvalidInput } from './errors.js';
import type { ExecutionInput } from './input.js';
import type { OrderEntry } from './run.js';

export interface OrderRequest {
  input: ExecutionInput;
  sequences: Readonly<Record<string, readonly OrderEntry[]>>;
  defaultSequence: string;
  /** When this run started (UTC): for rules such as "reverse order on Mondays". */
  now: Date;
}

export interface OrderDecision {
  /** Each entry is a pipeline, or a group of pipelines that run at the same time. */
  order: OrderEntry[];
  /** Where the order came from, shown in the plan and the summary: `order`, `sequence:release`, ... */
  source: string;
}

export function chooseOrder({ input, sequences, defaultSequence }: OrderRequest): OrderDecision {
  if (input.order) return { order: structuredClone(input.order) as OrderEntry[], source: 'order' };
  if (input.sequence !== undefined) {
    if (!Object.hasOwn(sequences, input.sequence)) {
      throw new InvalidInput(
        `sequence: '${input.sequence}' is not a sequence of this stage; the sequences are ${Object.keys(sequences).join(', ')}`,
      );
    }
    return { order: structuredClone([...sequences[input.sequence]!]), source: `sequence:${input.sequence}` };
  }
  return { order: structuredClone([...sequences[defaultSequence]!]), source: `default:${defaultSequence}` };
}
