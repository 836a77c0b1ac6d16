import { interpreterRequire } from '../interpreter.js';
import type * as lambda from '@aws-sdk/client-lambda';

/**
 * The SDK's Lambda client for aws-local-stepfunctions, loaded on first use (index.cjs says why),
 * resolved from the interpreter's own place as its import would be. `new` on either name
 * builds the real class's instance: a function called with `new` that returns an object gives that object.
 */
const real = () => interpreterRequire('@aws-sdk/client-lambda') as typeof lambda;

export const LambdaClient = function (...args: ConstructorParameters<typeof lambda.LambdaClient>) {
  return new (real().LambdaClient)(...args);
} as unknown as typeof lambda.LambdaClient;

export const InvokeCommand = function (...args: ConstructorParameters<typeof lambda.InvokeCommand>) {
  return new (real().InvokeCommand)(...args);
} as unknown as typeof lambda.InvokeCommand;
