import { AwsRequestRejected, AwsUnavailable } from './errors.js';

const transientNames = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * What the SDK still throws after its own retries, turned into a name Step Functions can act
 * on: transient (throttling, 5xx, network) becomes AwsUnavailable, which the definition retries
 * with backoff; anything else is a refusal that no retry can fix.
 */
export function toNamedAwsError(error: unknown, request: string): Error {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = shape.name ?? 'UnknownError';
  const status = shape.$metadata?.httpStatusCode;
  const transient =
    transientNames.has(name) || shape.$retryable !== undefined || status === undefined || status >= 500;
  const message = `${request}: ${name}${shape.message ? `: ${shape.message}` : ''}`;
  return transient ? new AwsUnavailable(message, { cause: error }) : new AwsRequestRejected(message, { cause: error });
}

export const isNamed = (error: unknown, name: string): boolean =>
  typeof error === 'object' && error !== null && (error as SdkErrorShape).name === name;
