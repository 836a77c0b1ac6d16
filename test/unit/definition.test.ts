import aslValidator from 'asl-validator';
import { readFileSync } from 'node:fs';
import { functionKeyOf, loadDefinition, localFunctionArn, localizeDefinition } from '../../local/definition.js';
import { nonRetryableErrorNames, pipelineOutcomeErrors } from '../../src/errors.js';

const definition = loadDefinition();
const states = Object.entries(definition.States);
const tasks = states.filter(([, state]) => state.Type === 'Task');
type Retrier = { ErrorEquals: string[]; JitterStrategy?: string; MaxAttempts?: number };

/** The definition as CloudFormation would resolve it: every Fn::GetAtt becomes a function ARN. */
const resolved = {
  ...definition,
  States: Object.fromEntries(
    states.map(([name, state]) => [name, functionKeyOf(state) ? { ...state, Resource: localFunctionArn(functionKeyOf(state)!) } : state]),
  ),
};

describe('statemachines/sequencer.asl.yml', () => {
  it('is valid Amazon States Language (asl-validator)', () => {
    // asl-validator writes defaults into what it checks: give it a copy.
    const { isValid, errorsText } = aslValidator(JSON.parse(JSON.stringify(resolved)), { checkArn: true, checkPaths: true });

    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('is written in JSONPath: the local engine ignores JSONata', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(states.filter(([, state]) => state.QueryLanguage === 'JSONata')).toEqual([]);
  });

  it('tells the story in its state names', () => {
    expect(Object.keys(definition.States)).toEqual(
      expect.arrayContaining(['DecideOrder', 'StartNextPipeline', 'WaitForPipeline', 'CheckPipelineStatus', 'PipelineSucceeded?']),
    );
    expect(tasks.map(([name, state]) => [name, functionKeyOf(state)])).toEqual([
      ['DecideOrder', 'decideOrder'],
      ['StartNextPipeline', 'startPipeline'],
      ['CheckPipelineStatus', 'checkStatus'],
    ]);
  });

  it.each(tasks.map(([name]) => name))('%s retries the Lambda service errors with backoff and full jitter', (name) => {
    const retriers = definition.States[name]!.Retry as Retrier[];
    const lambda = retriers.find((retrier) => retrier.ErrorEquals.includes('Lambda.ServiceException'));

    expect(lambda?.ErrorEquals).toEqual(
      expect.arrayContaining(['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException']),
    );
    for (const retrier of retriers) expect(retrier.JitterStrategy).toBe('FULL');
  });

  it.each(tasks.map(([name]) => name))('%s never retries a validation error, nor everything', (name) => {
    const retried = (definition.States[name]!.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals);

    for (const error of [...nonRetryableErrorNames, 'States.ALL', 'States.TaskFailed']) expect(retried).not.toContain(error);
  });

  it('names only errors that src/errors.ts defines, besides AWS’s own', () => {
    const named = new Set(
      tasks.flatMap(([, state]) => (state.Retry as Retrier[]).flatMap((retrier) => retrier.ErrorEquals)).filter(
        (error) => !error.startsWith('Lambda.') && !error.startsWith('States.'),
      ),
    );

    expect([...named]).toEqual(['AwsUnavailable']);
    const errorsModule = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
    for (const error of named) expect(errorsModule).toContain(`this.name = '${error}'`);
  });

  it('raises the pipeline outcome by name from check-status’s report, with its cause', () => {
    expect(definition.States.PipelineDidNotSucceed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.run.current.error',
      CausePath: '$.run.current.cause',
    });
    expect(Object.values(pipelineOutcomeErrors).sort()).toEqual([
      'PipelineCancelled',
      'PipelineFailed',
      'PipelineStopped',
      'PipelineSuperseded',
      'PipelineTimedOut',
    ]);
  });
});

describe('the local engine’s copy of the definition', () => {
  const local = localizeDefinition(definition);

  it('turns only Waits into clock advances and Fn::GetAtt into plain ARNs; the graph is otherwise the same', () => {
    const restored = Object.fromEntries(
      Object.entries(local.definition.States).map(([name, state]) => {
        const original = definition.States[name]!;
        if (original.Type === 'Wait') return [name, { ...state, Type: 'Wait', Resource: undefined, SecondsPath: original.SecondsPath }];
        if (local.tasks[name]) return [name, { ...state, Resource: original.Resource }];
        return [name, state];
      }),
    );

    expect(JSON.parse(JSON.stringify(restored))).toEqual(definition.States);
    expect({ ...local.definition, States: undefined }).toEqual({ ...definition, States: undefined });
    expect(Object.keys(local.waits)).toEqual(['WaitForPipeline']);
    expect(local.tasks).toEqual({ DecideOrder: 'decideOrder', StartNextPipeline: 'startPipeline', CheckPipelineStatus: 'checkStatus' });
  });

  it('reads the wait from the same SecondsPath', () => {
    const waitFor = local.waits.WaitForPipeline!;

    expect(waitFor({ run: { current: { waitSeconds: 420 } } })).toBe(420);
    expect(() => waitFor({ run: {} })).toThrow(expect.objectContaining({ name: 'States.Runtime' }));
  });

  it('leaves the file on disk untouched', () => {
    localizeDefinition(definition);

    expect(loadDefinition()).toEqual(definition);
  });
});
