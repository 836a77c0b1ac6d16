import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb.js';

export interface CompletionOnDynamo {
  /** A client of the same DynamoDB, for what the state machine writes (the callback Task's token) and for reading items. */
  tableClient: DynamoDBClient;
  completion: typeof import('../../src/pipeline-event.js');
  sweeper: typeof import('../../src/sweep.js');
  watching: typeof import('../../src/event-wait.js');
  /** What check-status's looks write to the watches (src/retry-hold.ts). */
  looks: typeof import('../../src/retry-hold.js');
}

/**
 * The event path's modules on a real DynamoDB (dynalite, in process) for one test file: dynalite
 * starts before the file's tests and stops after them, and every test gets an empty table of its
 * own (COMPLETION_TABLE_NAME = `${tablePrefix}-N`). The modules are imported once the endpoint and
 * the credentials are set, as a cold start reads them; `credentials` are the caller's, the hub's.
 * The fields are there from the file's first test on.
 */
export function completionOnDynamo(tablePrefix: string, credentials = { accessKeyId: 'local', secretAccessKey: 'local' }): CompletionOnDynamo {
  const context = {} as CompletionOnDynamo;
  let dynamo: LocalDynamo;
  let tables = 0;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    context.tableClient = new DynamoDBClient({ endpoint: dynamo.endpoint });
    context.completion = await import('../../src/pipeline-event.js');
    context.sweeper = await import('../../src/sweep.js');
    context.watching = await import('../../src/event-wait.js');
    context.looks = await import('../../src/retry-hold.js');
  });

  afterAll(async () => {
    context.tableClient.destroy();
    await dynamo.close();
  });

  beforeEach(async () => {
    tables += 1;
    process.env.COMPLETION_TABLE_NAME = `${tablePrefix}-${tables}`;
    await dynamo.createTable(process.env.COMPLETION_TABLE_NAME);
  });

  return context;
}
