import { pipelineNamePattern, shownName, variableNamePattern } from './names.js';

/**
 * What a variable value of the input is made of, read without asking AWS: the input's schema
 * checks every value with these (so every problem of every value is named at once, beside the
 * input's other problems), and src/references.ts resolves what they read.
 *
 * Forwarded outputs: a value may reference what an earlier pipeline of the order produced,
 * `#{<pipeline>.<namespace>.<variable>}` for an action's output variable and
 * `#{<pipeline>.variables.<name>}` for the pipeline-level variables its execution resolved.
 */
export interface Reference {
  /** The reference as written, `#{P1.BuildVariables.IMAGE_TAG}`. */
  text: string;
  pipeline: string;
  namespace: string;
  variable: string;
}

// CodePipeline's rule for an action's namespace (ActionDeclaration.namespace).
const namespacePattern = /^[A-Za-z0-9@\-_]{1,100}$/;
const syntax = '#{<pipeline>.<namespace>.<variable>} or #{<pipeline>.variables.<name>}';

export type Part = string | Reference;

/**
 * Splits a value into literal text and references. Pipeline names may contain dots while
 * namespaces and variable names may not, so a reference is read from the right. Anything that
 * opens with `#{` is a reference: a malformed one is refused, never passed on as text.
 */
export function parseValue(value: string): Part[] {
  const parts: Part[] = [];
  let rest = value;
  for (let open = rest.indexOf('#{'); open >= 0; open = rest.indexOf('#{')) {
    if (open > 0) parts.push(rest.slice(0, open));
    const close = rest.indexOf('}', open);
    if (close < 0) throw new SyntaxError(`${shownName(rest.slice(open))} opens a reference that is never closed; a reference is ${syntax}`);
    const text = rest.slice(open, close + 1);
    const inner = text.slice(2, -1);
    const variableDot = inner.lastIndexOf('.');
    const namespaceDot = inner.lastIndexOf('.', variableDot - 1);
    const pipeline = inner.slice(0, Math.max(0, namespaceDot));
    const namespace = inner.slice(namespaceDot + 1, variableDot);
    const variable = inner.slice(variableDot + 1);
    if (variableDot < 0 || namespaceDot <= 0 || !pipelineNamePattern.test(pipeline) || !namespacePattern.test(namespace) || !variableNamePattern.test(variable)) {
      throw new SyntaxError(`${shownName(text)} is not a reference; a reference is ${syntax}`);
    }
    parts.push({ text, pipeline, namespace, variable });
    rest = rest.slice(close + 1);
  }
  if (rest !== '') parts.push(rest);
  return parts;
}

/**
 * Characters a variable value may not hold. CodePipeline's model gives values the pattern `.*`,
 * which the service matches as Java does: `.` stops at a line terminator. A value with one would
 * be refused by StartPipelineExecution, possibly hours into a run, so it is refused here first.
 */
const lineTerminator = /[\n\r\u0085\u2028\u2029]/;

/** Where a value breaks CodePipeline's character rule, or undefined when it does not. */
export function valueCharacterProblem(value: string): string | undefined {
  const found = lineTerminator.exec(value);
  if (!found) return undefined;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `must be one line: character ${found.index + 1} is a line break (U+${code}), which CodePipeline refuses`;
}
