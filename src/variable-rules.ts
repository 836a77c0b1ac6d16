import type { PipelineDescription } from './codepipeline.js';
import { membersOf, type Plan } from './run.js';

/**
 * Every rule StartPipelineExecution applies to a pipeline's variables, checked against what
 * GetPipeline said before anything starts, so a run never fails half-way on a variable: only a
 * V2 pipeline takes variables, each one given must be declared, each one declared without a
 * default must be given (by a pipeline that will start: one `from` skips never starts) (the
 * names, lengths and characters of the values the input schema already checked). Every
 * problem of every pipeline is named, so that one run shows them all.
 */
export function variableDeclarationProblems(plan: Plan, descriptions: ReadonlyMap<string, PipelineDescription>): string[] {
  const fromIndex = plan.from === undefined ? 0 : plan.order.findIndex((entry) => membersOf(entry).includes(plan.from!));
  const problems: string[] = [];
  plan.order.forEach((entry, position) => {
    for (const pipelineName of membersOf(entry)) {
      const description = descriptions.get(pipelineName)!;
      const given = Object.hasOwn(plan.variables, pipelineName) ? plan.variables[pipelineName]! : {};
      const names = Object.keys(given);
      if (description.type === 'V1') {
        // A V1 pipeline declares no variables: naming each one given as undeclared would say the same again.
        if (names.length > 0) problems.push(`variables.${pipelineName}: '${pipelineName}' is a V1 pipeline; pipeline-level variables need a V2 pipeline`);
        continue;
      }
      const declared = description.variables.length > 0 ? `it declares ${description.variables.join(', ')}` : 'it declares none';
      for (const name of names.filter((given) => !description.variables.includes(given))) {
        problems.push(`variables.${pipelineName}.${name}: pipeline '${pipelineName}' declares no variable '${name}' (${declared})`);
      }
      if (position < fromIndex) continue;
      const missing = description.requiredVariables.filter((name) => !Object.hasOwn(given, name));
      if (missing.length > 0) {
        // Where in the input they go, spelt out: the field a first-time user has not met yet.
        const example = JSON.stringify({ variables: { [pipelineName]: Object.fromEntries(missing.map((name) => [name, '...'])) } });
        problems.push(
          `variables.${pipelineName}.${missing[0]}: pipeline '${pipelineName}' declares ${missing.map((name) => `'${name}'`).join(', ')} without a default value, so the input must give ${missing.length === 1 ? 'it' : 'them'}, as in ${example}`,
        );
      }
    }
  });
  return problems;
}
