import { InvalidInput } from './errors.js';
import { pipelineNameRule, type ExecutionInput } from './input.js';
import { maxGroupSize, maxPipelinesPerRun, pipelineNamePattern } from './names.js';
import { membersOf, type OrderEntry } from './run.js';

/**
 * What an order must be, whatever the stage: pipeline names by CodePipeline's rule, each once,
 * groups of 2 to maxGroupSize, at most maxPipelinesPerRun names. decide-order checks the order it
 * chose; `sequencer start` checks an order given in the input before StartExecution, so that a
 * typo is refused on the command line rather than failing an execution (and paging someone).
 */
export function checkOrder(order: unknown, field: string): asserts order is OrderEntry[] {
  if (!Array.isArray(order) || order.length === 0) throw new InvalidInput(`${field}: must name at least one pipeline`);
  const seen = new Set<string>();
  const checkName = (name: unknown, at: string) => {
    if (typeof name !== 'string') throw new InvalidInput(`${at}: must be a pipeline name, or a group (a list) of pipeline names`);
    if (!pipelineNamePattern.test(name)) throw new InvalidInput(`${at}: ${pipelineNameRule}; got ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new InvalidInput(`${at}: '${name}' appears twice; each pipeline runs once per run`);
    seen.add(name);
  };
  order.forEach((entry, index) => {
    if (!Array.isArray(entry)) return checkName(entry, `${field}[${index}]`);
    if (entry.length < 2 || entry.length > maxGroupSize) {
      throw new InvalidInput(`${field}[${index}]: a group runs 2 to ${maxGroupSize} pipelines at the same time; this one has ${entry.length}`);
    }
    entry.forEach((name, member) => checkName(name, `${field}[${index}][${member}]`));
  });
  if (seen.size > maxPipelinesPerRun) throw new InvalidInput(`${field}: must name at most ${maxPipelinesPerRun} pipelines; it names ${seen.size}`);
}

/** `variables` and `from` may name only pipelines of the order. */
export function checkNamedInOrder(order: OrderEntry[], { variables = {}, from }: Pick<ExecutionInput, 'variables' | 'from'>): void {
  const names = order.flatMap(membersOf);
  for (const name of Object.keys(variables)) {
    if (!names.includes(name)) throw new InvalidInput(`variables.${name}: '${name}' is not in the order (${names.join(', ')})`);
  }
  if (from !== undefined && !names.includes(from)) {
    throw new InvalidInput(`from: '${from}' is not in the order (${names.join(', ')})`);
  }
}

/** An input's own `order`, checked as decide-order will check it (the default policy runs an order given). */
export function checkGivenOrder(input: ExecutionInput): void {
  if (input.order === undefined) return;
  checkOrder(input.order, 'order');
  checkNamedInOrder(input.order, input);
}
