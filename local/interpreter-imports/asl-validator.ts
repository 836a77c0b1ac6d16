import { interpreterRequire } from '../interpreter.js';

/**
 * asl-validator for aws-local-stepfunctions, loaded on its first call (index.cjs says why),
 * resolved from the interpreter's own place as its import would be.
 */
type Validator = (definition: unknown, options?: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };

export default function aslValidator(definition: unknown, options?: unknown): ReturnType<Validator> {
  return (interpreterRequire('asl-validator') as Validator)(definition, options);
}
