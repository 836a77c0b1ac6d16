import { InvalidInput } from './errors.js';
import { pipelineNameRule, type ExecutionInput } from './input.js';
import { invalidInput } from './parse.js';
import { maxGroupSize, maxPipelinesPerRun, pipelineNamePattern, shownName } from './names.js';
import { membersOf, type OrderEntry } from './run.js';

/**
 * What an order must be, whatever the stage: pipeline names by CodePipeline's rule, each once,
 * groups of 2 to maxGroupSize, at most maxPipelinesPerRun names. decide-order checks the order it
 * chose; `sequencer start` checks an order given in the input before StartExecution, so that a
 * typo is refused on the command line rather than failing an execution (and paging someone).
 */
export function checkOrder(order: unknown, field: string): asserts order is OrderEntry[] {
  if (!Array.isArray(order) || order.length === 0) throw new InvalidInput(`${field}: must name at least one pipeline`);
  const problems: string[] = [];
  const seen = new Set<string>();
  const checkName = (name: unknown, at: string, inGroup: boolean) => {
    if (inGroup && Array.isArray(name)) return problems.push(`${at}: groups cannot be nested; a group is a list of pipeline names, all started at once`);
    if (typeof name !== 'string') return problems.push(`${at}: must be a pipeline name${inGroup ? '' : ', or a group (a list) of pipeline names'}`);
    if (!pipelineNamePattern.test(name)) return problems.push(`${at}: ${pipelineNameRule}; got ${shownName(name)}`);
    if (seen.has(name)) return problems.push(`${at}: '${name}' appears twice; each pipeline runs once per run`);
    seen.add(name);
  };
  order.forEach((entry, index) => {
    if (!Array.isArray(entry)) return checkName(entry, `${field}[${index}]`, false);
    if (entry.length < 2 || entry.length > maxGroupSize) {
      problems.push(`${field}[${index}]: a group runs 2 to ${maxGroupSize} pipelines at the same time; this one has ${entry.length}`);
    }
    entry.forEach((name, member) => checkName(name, `${field}[${index}][${member}]`, true));
  });
  if (seen.size > maxPipelinesPerRun) problems.push(`${field}: must name at most ${maxPipelinesPerRun} pipelines; it names ${seen.size}`);
  if (problems.length > 0) throw invalidInput(problems);
}

/** `variables` and `from` may name only pipelines of the order. */
export function checkNamedInOrder(order: OrderEntry[], { variables = {}, from }: Pick<ExecutionInput, 'variables' | 'from'>): void {
  const names = order.flatMap(membersOf);
  const problems = Object.keys(variables)
    .filter((name) => !names.includes(name))
    .map((name) => `variables.${name}: '${name}' is not in the order`);
  if (from !== undefined && !names.includes(from)) problems.push(`from: '${from}' is not in the order`);
  // The order is named once, after the last problem: up to 100 names, it would swell a cause ten times over.
  if (problems.length > 0) throw invalidInput(problems.map((problem, index) => (index === problems.length - 1 ? `${problem} (${names.join(', ')})` : problem)));
}

/** An input's own `order`, checked as decide-order will check it (the default policy runs an order given). */
export function checkGivenOrder(input: ExecutionInput): void {
  if (input.order === undefined) return;
  checkOrder(input.order, 'order');
  checkNamedInOrder(input.order, input);
}
