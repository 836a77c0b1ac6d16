import * as codePipelineSdk from '@aws-sdk/client-codepipeline';
import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  ListPipelinesCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import * as sfnSdk from '@aws-sdk/client-sfn';
import { GetExecutionHistoryCommand, ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { NormalizedSchema } from '@smithy/core/schema';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { SimulatedClock } from '../../local/clock.js';
import { loadDefinition } from '../../local/definition.js';
import { HistoryRecorder } from '../../local/history-recorder.js';
import { startEmulator, type Emulator } from '../../local/emulator/index.js';
import { commonErrors, emulatedOperations, modelledErrors, parseWorld, type EmulatedOperation } from '../../local/world.js';

/*
 * Every emulated operation, driven through the real SDK, answers with exactly the shape the SDK's
 * own model gives its output: required members present, no member the model lacks, enum values
 * from the model, the right JSON types. Every error it answers is one the model lists for that
 * operation, one every AWS JSON API may answer, or a protocol error.
 */

const require = createRequire(import.meta.url);
type SdkModule = Record<string, unknown>;
const services = {
  codepipeline: { sdk: codePipelineSdk as unknown as SdkModule, packageName: '@aws-sdk/client-codepipeline', targetPrefix: 'CodePipeline_20150709' },
  sfn: { sdk: sfnSdk as unknown as SdkModule, packageName: '@aws-sdk/client-sfn', targetPrefix: 'AWSStepFunctions' },
};
type ServiceName = keyof typeof services;
const stepFunctionsOperations: readonly EmulatedOperation[] = ['ListExecutions', 'GetExecutionHistory', 'ListStateMachines'];
const serviceOf = (operation: EmulatedOperation): ServiceName => (stepFunctionsOperations.includes(operation) ? 'sfn' : 'codepipeline');

// What the wire protocol itself answers, whatever the operation (awsJson1_0 and awsJson1_1).
const protocolErrors = ['SerializationException', 'UnknownOperationException'];

function packageRoot(service: ServiceName): string {
  return dirname(require.resolve(`${services[service].packageName}/package.json`));
}

/** The `@throws` of the operation's command: the errors the model lists for it. */
function sdkModelledErrors(operation: EmulatedOperation): string[] {
  const file = join(packageRoot(serviceOf(operation)), 'dist-types', 'commands', `${operation}Command.d.ts`);
  return [...readFileSync(file, 'utf8').matchAll(/@throws \{@link (\w+)\} \(client fault\)/g)].map((match) => match[1]!);
}

const declarations = new Map<ServiceName, string>();
function modelDeclarations(service: ServiceName): string {
  if (!declarations.has(service)) {
    const folder = join(packageRoot(service), 'dist-types', 'models');
    declarations.set(
      service,
      readdirSync(folder)
        .map((file) => readFileSync(join(folder, file), 'utf8'))
        .join('\n'),
    );
  }
  return declarations.get(service)!;
}

/** The enum values of a structure member, when the model gives it an enum type (the SDK exports each enum). */
function enumValues(service: ServiceName, structure: string, member: string): string[] | undefined {
  const body = new RegExp(`export interface ${structure} \\{([\\s\\S]*?)\\n\\}`).exec(modelDeclarations(service))?.[1];
  const typeName = body && new RegExp(`\\n\\s+${member}\\??: (\\w+)(?:\\[\\])? \\| undefined;`).exec(body)?.[1];
  const candidate = typeName ? services[service].sdk[typeName] : undefined;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  const values = Object.values(candidate);
  return values.every((value) => typeof value === 'string') ? (values as string[]) : undefined;
}

/** Problems with a JSON value against a schema, each naming its path. */
function problemsWith(service: ServiceName, value: unknown, schema: NormalizedSchema, path: string, enums?: string[]): string[] {
  if (schema.isStructSchema()) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
    const raw = schema.getSchema() as unknown as [number, string, string, unknown, string[], unknown[], number?];
    const [, , structure, , memberNames, , requiredCount = 0] = raw;
    const members = new Map([...schema.structIterator()]);
    const record = value as Record<string, unknown>;
    const problems = memberNames.slice(0, requiredCount).flatMap((name) => (name in record ? [] : [`${path}.${name}: required, missing`]));
    for (const [name, member] of Object.entries(record)) {
      const memberSchema = members.get(name);
      if (!memberSchema) problems.push(`${path}.${name}: not a member of ${structure}`);
      else problems.push(...problemsWith(service, member, memberSchema, `${path}.${name}`, enumValues(service, structure, name)));
    }
    return problems;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((item, index) => problemsWith(service, item, schema.getValueSchema(), `${path}[${index}]`, enums));
  }
  if (schema.isMapSchema()) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a map`];
    return Object.entries(value).flatMap(([key, item]) => problemsWith(service, item, schema.getValueSchema(), `${path}.${key}`));
  }
  if (schema.isTimestampSchema() || schema.isNumericSchema()) {
    return typeof value === 'number' && Number.isFinite(value) ? [] : [`${path}: expected a number, got ${JSON.stringify(value)}`];
  }
  if (schema.isBooleanSchema()) return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
  if (schema.isStringSchema()) {
    if (typeof value !== 'string') return [`${path}: expected a string, got ${JSON.stringify(value)}`];
    return enums && !enums.includes(value) ? [`${path}: '${value}' is not one of ${enums.join(' | ')}`] : [];
  }
  return [`${path}: a schema kind this test does not know`];
}

interface Answer {
  operation: EmulatedOperation;
  status: number;
  body: unknown;
}

/** Lets every call through, and keeps the raw answer: the SDK drops members it does not know. */
function recordingHandler(answers: Answer[]) {
  const inner = new NodeHttpHandler();
  return {
    handle: async (request: Parameters<NodeHttpHandler['handle']>[0], options?: Parameters<NodeHttpHandler['handle']>[1]) => {
      const { response } = await inner.handle(request, options);
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as Readable) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const operation = String(request.headers['x-amz-target']).split('.')[1] as EmulatedOperation;
      answers.push({ operation, status: response.statusCode, body: JSON.parse(text) as unknown });
      response.body = Readable.from([Buffer.from(text)]);
      return { response };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => inner.destroy(),
  };
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:sequencer+live!';
const startMs = Date.parse('2026-01-01T00:00:00Z');

describe('the emulator against the SDK’s own model', () => {
  const answers: Answer[] = [];
  let emulator: Emulator;
  let clock: SimulatedClock;
  /** The event types of a history with a callback wait woken once and timed out once. */
  let parkedHistory: string[] = [];

  beforeAll(async () => {
    const world = parseWorld(
      {
        startTime: '2026-01-01T00:00:00Z',
        pipelines: [
          {
            name: 'Staged',
            pipelineType: 'V2',
            variables: [{ name: 'ENV', defaultValue: 'dev', description: 'where to deploy' }],
            stages: [
              { name: 'Source', durationSeconds: 30, actions: [{ name: 'Source', namespace: 'SourceVariables', outputVariables: { CommitId: '9f1c2e7' } }] },
              { name: 'Build', durationSeconds: 300, actions: [{ name: 'Build', namespace: 'BuildVariables', outputVariables: { IMAGE_TAG: '1.4.2' } }, { name: 'Test' }] },
              { name: 'Deploy', durationSeconds: 270, actions: [{ name: 'Deploy' }] },
            ],
            outcomes: ['Superseded', 'Failed'],
            supersededBy: { durationSeconds: 600, statusSummary: 'newer change' },
            statusSummary: 'Deploy failed',
            inProgressAtStart: { remainingSeconds: 200 },
            history: [500],
          },
          { name: 'Queued', durationSeconds: 120, executionMode: 'QUEUED', pipelineType: 'V2', inProgressAtStart: { remainingSeconds: 60 } },
          { name: 'Old', durationSeconds: 60, pipelineType: 'V1' },
        ],
        faults: [
          { operation: 'StartPipelineExecution', error: 'ConflictException', count: 1, pipelineName: 'Old' },
          { operation: 'StartPipelineExecution', error: 'ConcurrentPipelineExecutionsLimitExceededException', count: 1, pipelineName: 'Old' },
          { operation: 'GetPipelineState', error: 'ThrottlingException', count: 1, pipelineName: 'Old' },
          { operation: 'StopPipelineExecution', error: 'ConflictException', count: 1, pipelineName: 'Old' },
        ],
      },
      'conformance world',
    );
    clock = new SimulatedClock(startMs);
    emulator = await startEmulator({ world, clock });
    const codePipeline = new CodePipelineClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler: recordingHandler(answers) });
    const stepFunctions = new SFNClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler: recordingHandler(answers) });
    const attempt = (promise: Promise<unknown>) => promise.catch(() => undefined);

    // Every operation, at instants that show every status: waiting, held, superseded, failed, stopped.
    const look = async (pipelineName: string, ids: string[]) => {
      await attempt(codePipeline.send(new GetPipelineStateCommand({ name: pipelineName })));
      await attempt(codePipeline.send(new ListPipelineExecutionsCommand({ pipelineName })));
      await attempt(codePipeline.send(new ListPipelineExecutionsCommand({ pipelineName, filter: { succeededInStage: { stageName: 'Source' } } })));
      await attempt(codePipeline.send(new ListActionExecutionsCommand({ pipelineName })));
      for (const pipelineExecutionId of ids) {
        await attempt(codePipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId })));
        await attempt(codePipeline.send(new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId } })));
      }
    };
    await attempt(codePipeline.send(new ListPipelinesCommand({ maxResults: 2 })));
    for (const name of ['Staged', 'Queued', 'Old']) await attempt(codePipeline.send(new GetPipelineCommand({ name })));
    const { pipelineExecutionId: superseded } = await codePipeline.send(
      new StartPipelineExecutionCommand({
        name: 'Staged',
        variables: [{ name: 'ENV', value: 'prod' }],
        sourceRevisions: [{ actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: 'abc123' }],
        clientRequestToken: 'run-1',
      }),
    );
    const { pipelineExecutionId: queued } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'Queued' }));
    for (const seconds of [10, 35, 60, 200, 900]) {
      await clock.sleep(seconds);
      await look('Staged', [superseded!]);
      await look('Queued', [queued!]);
    }
    const { pipelineExecutionId: failing } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'Staged' }));
    const { pipelineExecutionId: stopped } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'Queued' }));
    await codePipeline.send(new StopPipelineExecutionCommand({ pipelineName: 'Queued', pipelineExecutionId: stopped, reason: 'enough' }));
    await clock.sleep(15);
    await look('Queued', [stopped!]);
    await clock.sleep(2000);
    await look('Staged', [failing!]);
    await look('Queued', [stopped!]);

    // The errors each operation can answer.
    const unknownId = '00000000-0000-0000-0000-000000000000';
    await attempt(codePipeline.send(new GetPipelineCommand({ name: 'Nope' })));
    await attempt(codePipeline.send(new GetPipelineCommand({ name: 'Staged', version: 2 })));
    await attempt(codePipeline.send(new GetPipelineCommand({ name: 'not valid' })));
    await attempt(codePipeline.send(new ListPipelinesCommand({ nextToken: 'forged' })));
    await attempt(codePipeline.send(new StartPipelineExecutionCommand({ name: 'Nope' })));
    await attempt(codePipeline.send(new StartPipelineExecutionCommand({ name: 'Old' })));
    await attempt(codePipeline.send(new StartPipelineExecutionCommand({ name: 'Old' })));
    await attempt(codePipeline.send(new StartPipelineExecutionCommand({ name: 'Old', variables: [{ name: 'ENV', value: 'x' }] })));
    const badName = 'not valid';
    await attempt(codePipeline.send(new ListPipelinesCommand({ maxResults: 0 })));
    await attempt(codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: badName, pipelineExecutionId: unknownId })));
    await attempt(codePipeline.send(new ListPipelineExecutionsCommand({ pipelineName: badName })));
    await attempt(codePipeline.send(new ListActionExecutionsCommand({ pipelineName: badName })));
    await attempt(codePipeline.send(new StopPipelineExecutionCommand({ pipelineName: badName, pipelineExecutionId: unknownId })));
    await attempt(codePipeline.send(new GetPipelineStateCommand({ name: badName })));
    await attempt(codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: 'Staged', pipelineExecutionId: unknownId })));
    await attempt(codePipeline.send(new GetPipelineExecutionCommand({ pipelineName: 'Nope', pipelineExecutionId: unknownId })));
    await attempt(codePipeline.send(new ListPipelineExecutionsCommand({ pipelineName: 'Staged', nextToken: 'forged' })));
    await attempt(codePipeline.send(new ListPipelineExecutionsCommand({ pipelineName: 'Nope' })));
    await attempt(codePipeline.send(new ListActionExecutionsCommand({ pipelineName: 'Staged', filter: { pipelineExecutionId: unknownId } })));
    await attempt(codePipeline.send(new ListActionExecutionsCommand({ pipelineName: 'Staged', nextToken: 'forged' })));
    await attempt(codePipeline.send(new ListActionExecutionsCommand({ pipelineName: 'Nope' })));
    await attempt(codePipeline.send(new StopPipelineExecutionCommand({ pipelineName: 'Staged', pipelineExecutionId: failing })));
    await attempt(codePipeline.send(new StopPipelineExecutionCommand({ pipelineName: 'Nope', pipelineExecutionId: failing })));
    await attempt(codePipeline.send(new GetPipelineStateCommand({ name: 'Old' })));
    await attempt(codePipeline.send(new GetPipelineStateCommand({ name: 'Nope' })));
    const { pipelineExecutionId: toStopTwice } = await codePipeline.send(new StartPipelineExecutionCommand({ name: 'Old' }));
    for (let stop = 0; stop < 2; stop += 1) {
      await attempt(codePipeline.send(new StopPipelineExecutionCommand({ pipelineName: 'Old', pipelineExecutionId: toStopTwice })));
    }
    await attempt(codePipeline.send(new StopPipelineExecutionCommand({ pipelineName: 'Old', pipelineExecutionId: toStopTwice })));

    emulator.stepFunctions.putExecution({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sequencer+live!:run!1',
      stateMachineArn,
      name: 'run!1',
      status: 'PENDING_REDRIVE',
      startDate: startMs,
      stopDate: startMs + 60_000,
      stateMachineVersionArn: `${stateMachineArn}:2`,
      stateMachineAliasArn: `${stateMachineArn}:prod`,
      redriveCount: 1,
      redriveDate: startMs + 120_000,
    });
    await attempt(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn, redriveFilter: 'REDRIVEN', maxResults: 1 })));
    await attempt(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: `${stateMachineArn}:prod`, statusFilter: 'PENDING_REDRIVE' })));
    await attempt(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: 'not an arn' })));
    await attempt(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: stateMachineArn.replace('live', 'dead') })));
    await attempt(stepFunctions.send(new ListExecutionsCommand({ stateMachineArn, nextToken: 'forged' })));
    await attempt(stepFunctions.send(new ListExecutionsCommand({})));
    await attempt(stepFunctions.send(new ListExecutionsCommand({ mapRunArn: `${stateMachineArn.replace(':stateMachine:', ':mapRun:')}/run:1` })));

    // A history as the recorder writes it from the engine's event log: every kind of state, a
    // retried Lambda, a continuation, a failure, a redrive.
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:sequencer-history:run-1';
    emulator.stepFunctions.putExecution({
      executionArn,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sequencer-history',
      name: 'run-1',
      status: 'SUCCEEDED',
      startDate: startMs + 1000,
      stopDate: startMs + 2000,
      redriveCount: 1,
    });
    // The polled definition: its Wait state. The callback wait of the events definition follows.
    const recorder = new HistoryRecorder(loadDefinition('poll'), emulator.stepFunctions);
    const state = (name: string, output?: unknown) => ({ name, input: { plan: {} }, ...(output !== undefined && { output }) });
    const logged = [
      { type: 'ExecutionStarted', input: {} },
      { type: 'StateEntered', state: state('DecideOrder') },
      { type: 'StateFailed', state: state('DecideOrder'), Error: 'Lambda.ServiceException', Cause: 'busy' },
      { type: 'StateRetried', state: state('DecideOrder') },
      { type: 'StateExited', state: state('DecideOrder', { plan: {}, run: {} }) },
      { type: 'StateEntered', state: state('MorePipelines?') },
      { type: 'StateExited', state: state('MorePipelines?', {}) },
      { type: 'StateEntered', state: state('WaitForPipelines') },
      { type: 'StateExited', state: state('WaitForPipelines', {}) },
      { type: 'StateEntered', state: state('CheckPipelines') },
      { type: 'StateExited', state: state('CheckPipelines', { run: { index: 0 } }) },
      { type: 'StateEntered', state: state('ContinueAsNewExecution') },
      { type: 'StateFailed', state: state('ContinueAsNewExecution'), Error: 'StepFunctions.SdkClientException', Cause: 'lost' },
      { type: 'StateRetried', state: state('ContinueAsNewExecution') },
      { type: 'StateExited', state: state('ContinueAsNewExecution', { handover: { continuedAs: `${executionArn}-g2`, startDate: '2026-01-01T00:00:00Z' } }) },
      { type: 'StateEntered', state: state('CheckPipelines') },
      { type: 'StateFailed', state: state('CheckPipelines'), Error: 'PipelineFailed', Cause: 'P1 failed' },
      { type: 'ExecutionFailed', Error: 'PipelineFailed', Cause: 'P1 failed' },
    ];
    for (const event of logged) recorder.record(executionArn, event, startMs + 1000, 0);
    recorder.record(executionArn, { type: 'ExecutionStarted', input: {} }, startMs + 2000, 1);
    recorder.record(executionArn, { type: 'StateEntered', state: state('SummariseRun') }, startMs + 2000, 1);
    recorder.record(executionArn, { type: 'StateExited', state: state('SummariseRun', {}) }, startMs + 2000, 1);
    recorder.record(executionArn, { type: 'StateEntered', state: state('AllPipelinesSucceeded') }, startMs + 2000, 1);
    recorder.record(executionArn, { type: 'StateExited', state: state('AllPipelinesSucceeded', {}) }, startMs + 2000, 1);
    recorder.record(executionArn, { type: 'ExecutionSucceeded', output: {} }, startMs + 2000, 1);
        await attempt(stepFunctions.send(new GetExecutionHistoryCommand({ executionArn })));
    // completion: events: the callback wait, woken once (TaskSubmitted, TaskSucceeded) and timed out once (TaskTimedOut).
    const parkedArn = `${executionArn}-parked`;
    emulator.stepFunctions.putExecution({ executionArn: parkedArn, stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sequencer-history', name: 'run-1-parked', status: 'RUNNING', startDate: startMs });
    const parked = new HistoryRecorder(loadDefinition('events'), emulator.stepFunctions);
    parked.record(parkedArn, { type: 'ExecutionStarted', input: {} }, startMs, 0);
    for (const [index, end] of (['woken', 'timedOut'] as const).entries()) {
      const at = startMs + 1000 * (index + 1);
      parked.record(parkedArn, { type: 'StateEntered', state: state('WaitForPipelineEnd') }, at, 0);
      parked.submitted(parkedArn, 'WaitForPipelineEnd', at);
      if (end === 'timedOut') {
        parked.record(parkedArn, { type: 'StateFailed', state: state('WaitForPipelineEnd'), Error: 'States.Timeout', Cause: 'WaitForPipelineEnd timed out after 3600 s' }, at + 500, 0);
        parked.record(parkedArn, { type: 'StateCaught', state: state('WaitForPipelineEnd'), Error: 'States.Timeout' }, at + 500, 0);
      }
      parked.record(parkedArn, { type: 'StateExited', state: state('WaitForPipelineEnd', { run: { wake: {} } }) }, at + 500, 0);
    }
    parkedHistory = (await stepFunctions.send(new GetExecutionHistoryCommand({ executionArn: parkedArn }))).events!.map((event) => event.type!);
    const abortedArn = `${executionArn}-aborted`;
    emulator.stepFunctions.putExecution({ executionArn: abortedArn, stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sequencer-history', name: 'run-1-aborted', status: 'ABORTED', startDate: startMs });
    recorder.record(abortedArn, { type: 'ExecutionStarted', input: {} }, startMs, 0);
    recorder.record(abortedArn, { type: 'ExecutionTerminated' }, startMs + 1000, 0);
    await attempt(stepFunctions.send(new GetExecutionHistoryCommand({ executionArn: abortedArn })));
    const firstPage = await stepFunctions.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 5, reverseOrder: true, includeExecutionData: false }));
    await attempt(stepFunctions.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 5, reverseOrder: true, nextToken: firstPage.nextToken })));
    await attempt(stepFunctions.send(new GetExecutionHistoryCommand({ executionArn: 'not an arn' })));
    await attempt(stepFunctions.send(new GetExecutionHistoryCommand({ executionArn: `${executionArn}-missing` })));
    await attempt(stepFunctions.send(new GetExecutionHistoryCommand({ executionArn, nextToken: 'forged' })));
    await attempt(stepFunctions.send(new ListStateMachinesCommand({ maxResults: 1 })));
    await attempt(stepFunctions.send(new ListStateMachinesCommand({ nextToken: 'forged' })));

    codePipeline.destroy();
    stepFunctions.destroy();
  });

  afterAll(async () => {
    await emulator.close();
  });

  it.each(emulatedOperations.map((operation) => [operation]))('%s answers with its output shape, every time', (operation) => {
    // Prepare
    const service = serviceOf(operation);
    const outputSchema = services[service].sdk[`${operation}Output$`];
    const successes = answers.filter((answer) => answer.operation === operation && answer.status === 200);

    // Act
    const problems = successes.flatMap((answer) =>
      problemsWith(service, answer.body, NormalizedSchema.of(outputSchema as Parameters<typeof NormalizedSchema.of>[0]), operation),
    );

    // Assess
    expect(successes.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it.each(emulatedOperations.map((operation) => [operation]))('%s answers only errors its model, AWS or the protocol allows', (operation) => {
    // Prepare
    const allowed = new Set([...sdkModelledErrors(operation), ...commonErrors, ...protocolErrors]);
    const failures = answers.filter((answer) => answer.operation === operation && answer.status >= 400);

    // Act
    const errorTypes = failures.map((answer) => (answer.body as { __type: string }).__type);

    // Assess
    expect(failures.length).toBeGreaterThan(0);
    expect(errorTypes.filter((type) => !allowed.has(type))).toEqual([]);
  });

  it('records a callback wait as Step Functions does: submitted, then succeeded or timed out, never both', () => {
    const parkedOnce = ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted'];

    expect(parkedHistory).toEqual(['ExecutionStarted', ...parkedOnce, 'TaskSucceeded', 'TaskStateExited', ...parkedOnce, 'TaskTimedOut', 'TaskStateExited']);
  });

  it('has been shown every error the model lists, on the operations that list them, where the emulator can cause it', () => {
    // Prepare
    const seen = new Set(answers.filter((answer) => answer.status >= 400).map((answer) => `${answer.operation} ${(answer.body as { __type: string }).__type}`));
    // Conditions the emulated account never has: no Express state machines (a world can still inject it).
    const neverArises = new Set([
      'ListExecutions StateMachineTypeNotSupported',
      // No customer-managed KMS key encrypts the emulated executions.
      'GetExecutionHistory KmsAccessDeniedException',
      'GetExecutionHistory KmsInvalidStateException',
      'GetExecutionHistory KmsThrottlingException',
    ]);

    // Act
    const missing = emulatedOperations
      .flatMap((operation) => sdkModelledErrors(operation).map((error) => `${operation} ${error}`))
      .filter((pair) => !seen.has(pair) && !neverArises.has(pair));

    // Assess
    expect(missing).toEqual([]);
  });

  it('finds what it is there to find: an unknown member, a missing required one, a value outside its enum, a wrong type', () => {
    // Prepare
    const schema = NormalizedSchema.of(codePipelineSdk.GetPipelineStateOutput$);
    const body = {
      pipelineName: 'P1',
      created: '2026-01-01',
      stageStates: [{ stageName: 'Build', latestExecution: { status: 'Waiting' }, extra: true }],
    };

    // Act
    const problems = problemsWith('codepipeline', body, schema, 'GetPipelineState');

    // Assess
    expect(problems).toEqual([
      'GetPipelineState.created: expected a number, got "2026-01-01"',
      'GetPipelineState.stageStates[0].latestExecution.pipelineExecutionId: required, missing',
      "GetPipelineState.stageStates[0].latestExecution.status: 'Waiting' is not one of Cancelled | Failed | InProgress | Skipped | Stopped | Stopping | Succeeded",
      'GetPipelineState.stageStates[0].extra: not a member of StageState',
    ]);
  });

  it('lets a world inject exactly the errors the model lists for each operation', () => {
    for (const operation of emulatedOperations) {
      expect({ operation, errors: [...modelledErrors[operation]].sort() }).toEqual({ operation, errors: sdkModelledErrors(operation).sort() });
    }
  });
});
