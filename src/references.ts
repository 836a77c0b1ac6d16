import { listActionExecutions, getExecution } from './codepipeline.js';
import { InvalidInput, OutputNotFound } from './errors.js';
import { invalidInput } from './parse.js';
import { maxVariableValueLength } from './names.js';
import { parseValue, valueCharacterProblem, type Part, type Reference } from './variable-values.js';
import { memberPlace, membersOf, type Member, type Plan, type Run } from './run.js';

/**
 * Forwarded outputs: a variable value in the input may reference what an earlier pipeline of
 * the order produced (src/variable-values.ts reads them). decide-order checks every reference
 * before anything starts; start-pipeline resolves them from the execution of the earlier
 * pipeline that the run watched succeed.
 */

/** The namespace that reads an execution's pipeline-level variables rather than an action's outputs. */
export const pipelineVariablesNamespace = 'variables';

/** What a pipeline declares, as GetPipeline shows it: read once per pipeline by decide-order. */
export interface Declarations {
  /** The namespaces of its actions. */
  namespaces: string[];
  /** Its pipeline-level variables (V2 only). */
  variables: string[];
}

const isReference = (part: Part): part is Reference => typeof part !== 'string';

const inputField = (pipelineName: string, name: string) => `variables.${pipelineName}.${name}`;

/** parseValue, with a malformed reference refused as InvalidInput naming the field. */
function partsOf(pipelineName: string, name: string, value: string): Part[] {
  try {
    return parseValue(value);
  } catch (error) {
    throw new InvalidInput(`${inputField(pipelineName, name)}: ${(error as Error).message}`);
  }
}

/** Every variable of the plan whose value holds a reference. */
function referencingVariables(plan: Plan) {
  return Object.entries(plan.variables).flatMap(([pipelineName, values]) =>
    Object.entries(values).flatMap(([name, value]) => {
      const references = partsOf(pipelineName, name, value).filter(isReference);
      return references.length > 0 ? [{ pipelineName, name, references }] : [];
    }),
  );
}

/**
 * Syntax and order, checked without asking AWS: every reference names a pipeline of an entry
 * before the referencing pipeline's entry (a member of the same group runs at the same time, so
 * it is not earlier) and, for a pipeline this run starts, not one skipped by `from` (the run
 * watched no execution of it; a skipped pipeline's own variables are never resolved). Every
 * problem is named, not only the first.
 */
export function checkReferenceOrder(plan: Plan): void {
  const entryOf = new Map(plan.order.flatMap((entry, index) => membersOf(entry).map((name) => [name, index] as const)));
  const firstRun = plan.from === undefined ? 0 : entryOf.get(plan.from)!;
  const problems: string[] = [];
  for (const [pipelineName, values] of Object.entries(plan.variables)) {
    const at = entryOf.get(pipelineName)!;
    for (const [name, value] of Object.entries(values)) {
      // The input's schema refused any malformed reference already (src/input.ts).
      for (const reference of partsOf(pipelineName, name, value).filter(isReference)) {
        const where = `${inputField(pipelineName, name)}: ${reference.text}`;
        const producer = entryOf.get(reference.pipeline);
        if (producer === undefined) problems.push(`${where} refers to '${reference.pipeline}', which is not in the order`);
        else if (producer === at) problems.push(`${where} refers to '${reference.pipeline}', which runs in the same entry as ${pipelineName} (position ${at + 1}), not before it`);
        else if (producer > at) problems.push(`${where} refers to '${reference.pipeline}' (position ${producer + 1}), which runs after ${pipelineName} (position ${at + 1})`);
        else if (producer < firstRun && at >= firstRun) {
          problems.push(`${where} refers to '${reference.pipeline}', which from '${plan.from}' skips: this run has no execution of it to read`);
        }
      }
    }
  }
  if (problems.length > 0) throw invalidInput(problems);
}

/** Every reference names a namespace its pipeline declares (or a pipeline-level variable it declares): each one that does not. */
export function referenceDeclarationProblems(plan: Plan, declarations: ReadonlyMap<string, Declarations>): string[] {
  const problems: string[] = [];
  for (const { pipelineName, name, references } of referencingVariables(plan)) {
    for (const reference of references) {
      const declared = declarations.get(reference.pipeline)!;
      const where = `${inputField(pipelineName, name)}: ${reference.text}`;
      if (reference.namespace === pipelineVariablesNamespace) {
        if (!declared.variables.includes(reference.variable)) {
          const known = declared.variables.length > 0 ? `it declares ${declared.variables.join(', ')}` : 'it declares none';
          problems.push(`${where}: '${reference.pipeline}' declares no pipeline-level variable '${reference.variable}' (${known})`);
        }
      } else if (!declared.namespaces.includes(reference.namespace)) {
        const known = declared.namespaces.length > 0 ? `its actions' namespaces are ${declared.namespaces.join(', ')}` : 'none of its actions has a namespace';
        problems.push(`${where}: '${reference.pipeline}' has no action with namespace '${reference.namespace}' (${known})`);
      }
    }
  }
  return problems;
}

/**
 * The most the resolved values of one entry can add to the state: each variable holding a
 * reference resolves to at most 1,000 characters (CodePipeline's limit, checked before it is
 * kept), each at most 6 bytes in JSON (`\u001f`), plus its name. Only the current entry's members
 * keep them, so the largest entry is the bound.
 */
export function resolvedBytesBound(plan: Plan): number {
  const perValue = 2 + 6 * maxVariableValueLength + 2;
  const byPipeline = new Map<string, number>();
  for (const { pipelineName, name } of referencingVariables(plan)) {
    byPipeline.set(pipelineName, (byPipeline.get(pipelineName) ?? 0) + Buffer.byteLength(JSON.stringify(name)) + perValue);
  }
  const memberField = Buffer.byteLength(',"variables":{}');
  return Math.max(
    0,
    ...plan.order.map((entry) =>
      membersOf(entry).reduce((sum, name) => sum + (byPipeline.has(name) ? byPipeline.get(name)! + memberField : 0), 0),
    ),
  );
}

/** Reads each producer's outputs at most once per invocation, however many references share it. */
class OutputReader {
  private readonly actions = new Map<string, ReturnType<typeof listActionExecutions>>();
  private readonly pipelineVariables = new Map<string, Promise<Record<string, string>>>();

  read(pipelineName: string, pipelineExecutionId: string, reference: Reference): Promise<{ value?: string; published: string }> {
    const key = `${pipelineName}/${pipelineExecutionId}`;
    if (reference.namespace === pipelineVariablesNamespace) {
      let variables = this.pipelineVariables.get(key);
      if (!variables) {
        variables = getExecution(pipelineName, pipelineExecutionId).then((execution) => execution.variables ?? {});
        this.pipelineVariables.set(key, variables);
      }
      return variables.then((values) => ({
        ...(Object.hasOwn(values, reference.variable) ? { value: values[reference.variable]! } : {}),
        published: `its pipeline-level variables are ${listed(Object.keys(values))}`,
      }));
    }
    let actions = this.actions.get(key);
    if (!actions) {
      actions = listActionExecutions(pipelineName, pipelineExecutionId);
      this.actions.set(key, actions);
    }
    return actions.then((details) => {
      // A stage retried in the same execution runs its actions again: the latest success counts.
      const succeeded = details
        .filter((detail) => detail.namespace === reference.namespace && detail.status === 'Succeeded')
        .sort((a, b) => b.lastUpdateTime - a.lastUpdateTime)[0];
      if (!succeeded) return { published: `no action with namespace ${reference.namespace} succeeded in it` };
      const outputs = succeeded.outputVariables;
      return {
        ...(Object.hasOwn(outputs, reference.variable) ? { value: outputs[reference.variable]! } : {}),
        published: `action ${succeeded.actionName} published ${listed(Object.keys(outputs))}`,
      };
    });
  }
}

const listed = (names: string[]) => (names.length > 0 ? names.join(', ') : 'none');

/**
 * The values of a member's variables that hold references, resolved from the executions this
 * run watched succeed (run.results: after any supersession, the one we followed). Literal
 * variables are not repeated here: they are in the plan. Fails with OutputNotFound, naming the
 * pipeline, execution, namespace and variable, when a value is not there.
 */
export async function resolveMemberVariables(plan: Plan, run: Run, member: Member, reader = new OutputReader()): Promise<Record<string, string>> {
  const values = Object.hasOwn(plan.variables, member.pipelineName) ? plan.variables[member.pipelineName]! : {};
  const group = typeof plan.order[member.position] === 'string' ? '' : ', nor any member of its group';
  const notStarted = `${memberPlace(member, plan)} was not started${group}, nor anything after it`;
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    const parts = partsOf(member.pipelineName, name, value);
    if (!parts.some(isReference)) continue;
    const texts = await Promise.all(
      parts.map(async (part) => {
        if (!isReference(part)) return part;
        const producer = run.results.find((result) => result.pipelineName === part.pipeline && result.status === 'Succeeded');
        const field = `${inputField(member.pipelineName, name)} refers to ${part.text}`;
        if (producer?.pipelineExecutionId === undefined) {
          throw new OutputNotFound(`${field}, but this run has no succeeded execution of ${part.pipeline}. ${notStarted}`);
        }
        const execution = producer.pipelineExecutionId;
        const { value: output, published } = await reader.read(part.pipeline, execution, part);
        if (output === undefined) {
          throw new OutputNotFound(
            `${field}: ${part.pipeline} execution ${execution} has no variable ${part.variable} in namespace ${part.namespace} (${published}). ${notStarted}`,
          );
        }
        return output;
      }),
    );
    const text = texts.join('');
    if (text.length < 1 || text.length > maxVariableValueLength) {
      throw new OutputNotFound(
        `${inputField(member.pipelineName, name)} resolves to ${text.length} characters from ${parts.filter(isReference).map((part) => part.text).join(', ')}; CodePipeline takes 1 to ${maxVariableValueLength}. ${notStarted}`,
      );
    }
    const characterProblem = valueCharacterProblem(text);
    if (characterProblem) {
      throw new OutputNotFound(`${inputField(member.pipelineName, name)} resolves, from ${parts.filter(isReference).map((part) => part.text).join(', ')}, to a value that ${characterProblem}. ${notStarted}`);
    }
    resolved[name] = text;
  }
  return resolved;
}

/** One reader for every member a start-pipeline invocation starts. */
export const newOutputReader = () => new OutputReader();
