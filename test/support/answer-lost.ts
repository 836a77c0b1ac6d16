import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientSettings } from '../../src/client-settings.js';

/**
 * Makes DynamoDB apply the first request that `matches` picks and then answer 500, beneath the
 * SDK's retries, so that the SDK sends it again: what DynamoDB may do on AWS (a write applied,
 * its answer lost) and the local table never does by itself. `matches` sees the operation's name
 * in quotes, then the request's JSON (`"PutItem" {"TableName":...}`). `answered` holds the HTTP
 * status of that request and of its retry; `restore` takes the fault away.
 */
export function answerLostOnce(client: DynamoDBClient, matches: (request: string) => boolean): { answered: number[]; restore: () => void } {
  const answered: number[] = [];
  // Added after the client's first call: the client must resolve its stack again at every call.
  client.config.cacheMiddleware = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const { body } = args.request as { body?: unknown };
      const request = `"${(context.commandName ?? '').replace(/Command$/, '')}" ${body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body ?? '')}`;
      if (answered.length > 1 || !matches(request)) return next(args);
      const result = await next(args);
      answered.push((result.response as { statusCode: number }).statusCode);
      if (answered.length > 1) return result;
      throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    },
    { step: 'deserialize', name: 'answerLost' },
  );
  return {
    answered,
    restore: () => {
      client.middlewareStack.remove('answerLost');
      client.config.cacheMiddleware = clientSettings.cacheMiddleware;
    },
  };
}
