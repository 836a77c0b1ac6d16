import { CodePipelineClient, ListPipelineExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { awsErrorTable, awsErrorVerdict, toNamedAwsError, type CalledOperation } from '../../src/aws-errors.js';
import { listRecentExecutions } from '../../src/codepipeline.js';
import { awsError, useStageConfig } from '../support/fixtures.js';

const require = createRequire(import.meta.url);

type Client = 'client-codepipeline' | 'client-sfn' | 'client-dynamodb';

/** The errors the SDK's model lists for an operation: the `@throws` of its command's documentation. */
function modelledErrors(client: Client, operation: string): string[] {
  const packageRoot = dirname(require.resolve(`@aws-sdk/${client}/package.json`));
  const text = readFileSync(join(packageRoot, 'dist-types', 'commands', `${operation}Command.d.ts`), 'utf8');
  return [...text.matchAll(/@throws \{@link (\w+)\} \(client fault\)/g)].map((match) => match[1]!);
}

const calledOperations: [CalledOperation, Client][] = [
  ['GetPipeline', 'client-codepipeline'],
  ['StartPipelineExecution', 'client-codepipeline'],
  ['GetPipelineExecution', 'client-codepipeline'],
  ['ListPipelineExecutions', 'client-codepipeline'],
  ['ListActionExecutions', 'client-codepipeline'],
  ['GetPipelineState', 'client-codepipeline'],
  ['ListExecutions', 'client-sfn'],
  ['DescribeExecution', 'client-sfn'],
  ['GetExecutionHistory', 'client-sfn'],
  ['StartExecution', 'client-sfn'],
  ['SendTaskSuccess', 'client-sfn'],
  ['GetItem', 'client-dynamodb'],
  ['PutItem', 'client-dynamodb'],
  ['UpdateItem', 'client-dynamodb'],
  ['DeleteItem', 'client-dynamodb'],
  ['Scan', 'client-dynamodb'],
];

describe('the AWS error table', () => {
  it.each(calledOperations)('maps every error the model lists for %s, and names the operation in that row', (operation, client) => {
    // Act
    const errors = modelledErrors(client, operation);

    // Assess
    expect(errors.length).toBeGreaterThan(0);
    for (const name of errors) {
      const row = (awsErrorTable as Record<string, { operations: readonly string[] | 'any' }>)[name];
      expect({ name, mapped: row !== undefined }).toEqual({ name, mapped: true });
      if (row!.operations !== 'any') expect({ name, operations: row!.operations }).toEqual({ name, operations: expect.arrayContaining([operation]) });
    }
  });

  it('lists no operation for an error whose model does not list it', () => {
    for (const [name, row] of Object.entries(awsErrorTable)) {
      if (row.operations === 'any') continue;
      for (const operation of row.operations) {
        const client = calledOperations.find(([candidate]) => candidate === operation)![1];
        expect({ name, operation, modelled: modelledErrors(client, operation).includes(name) }).toEqual({ name, operation, modelled: true });
      }
    }
  });

  it.each([
    ['ConflictException', 409, 'transient'],
    ['ConcurrentPipelineExecutionsLimitExceededException', 400, 'transient'],
    // The completion table throttled past the SDK's retries: the state machine retries it, as it does the callback Task's.
    ['ProvisionedThroughputExceededException', 400, 'transient'],
    ['ResourceNotFoundException', 400, 'rejected'],
    ['SomethingNew', 429, 'transient'],
    ['ValidationException', 429, 'transient'],
    ['SomethingNew', 502, 'transient'],
    ['PipelineNotFoundException', 400, 'gone'],
    ['PipelineExecutionNotFoundException', 400, 'gone'],
    ['ValidationException', 400, 'rejected'],
    ['SomethingNew', 400, 'rejected'],
  ] as const)('%s with HTTP %i is %s', (name, status, verdict) => {
    expect(awsErrorVerdict(awsError(name, status))).toBe(verdict);
  });

  it('treats a failure that never got an HTTP answer as transient', () => {
    expect(awsErrorVerdict(Object.assign(new Error('socket hang up'), { name: 'Error' }))).toBe('transient');
  });

  it('names the request and what vanished', () => {
    const error = toNamedAwsError(awsError('PipelineNotFoundException', 400), 'GetPipeline P1', "pipeline 'P1' is gone");

    expect(error).toMatchObject({ name: 'PipelineNotFound', message: expect.stringContaining("pipeline 'P1' is gone") });
    expect(error.message).toContain('GetPipeline P1: PipelineNotFoundException');
  });
});

describe('a pipeline deleted mid-run', () => {
  const codePipeline = mockClient(CodePipelineClient);
  beforeEach(() => {
    codePipeline.reset();
    useStageConfig();
  });

  it('is PipelineNotFound when the listing notices it first', async () => {
    // Prepare
    codePipeline.on(ListPipelineExecutionsCommand).rejects(awsError('PipelineNotFoundException', 400));

    // Act
    const listing = listRecentExecutions('P2', { maxPages: 1, pageSize: 10 });

    // Assess
    await expect(listing).rejects.toMatchObject({ name: 'PipelineNotFound', message: expect.stringContaining("'P2'") });
  });
});
