import { causeMessage, lambdaErrorDocument, maxCauseLength } from '../../src/lambda-cause.js';

/**
 * On AWS a failed Lambda Task's cause is the runtime's JSON error document; Step Functions' own
 * causes and StopExecution's are plain text. A person reads the message either way.
 */
describe('a cause as Step Functions holds it', () => {
  it('a function that threw: its error document, read back to its message', () => {
    const cause = JSON.stringify({ errorType: 'PipelineFailed', errorMessage: 'P2 (position 2 of 3) execution e-2 ended Failed: Unit tests failed', trace: ['PipelineFailed: P2 ...', '    at failed (file:///var/task/handlers/check-status.mjs:1:2)'] });

    expect(lambdaErrorDocument(cause)).toEqual({ errorType: 'PipelineFailed', errorMessage: 'P2 (position 2 of 3) execution e-2 ended Failed: Unit tests failed' });
    expect(causeMessage(cause)).toBe('P2 (position 2 of 3) execution e-2 ended Failed: Unit tests failed');
  });

  it.each([
    ['Step Functions’ own', 'CheckPipelines timed out after 60 s'],
    ['StopExecution’s', 'release called off'],
    ['JSON that is no error document', '["a", "list"]'],
    ['a JSON string', '"quoted"'],
  ])('%s: kept as it is', (_, cause) => {
    expect(lambdaErrorDocument(cause)).toBeUndefined();
    expect(causeMessage(cause)).toBe(cause);
  });

  it('cut at the length Step Functions keeps, in the message: the message up to the cut, saying so', () => {
    const message = `P2 (position 2 of 3) ${'é\u0001'.repeat(20_000)}`;
    const cause = JSON.stringify({ errorType: 'PipelineFailed', errorMessage: message, trace: [] }).slice(0, maxCauseLength);

    const read = causeMessage(cause);

    expect(read.startsWith('P2 (position 2 of 3) é\u0001é')).toBe(true);
    expect(message.startsWith(read.slice(0, read.indexOf('…')))).toBe(true);
    expect(read).toMatch(/… \(cut: Step Functions keeps 32768 characters of a cause\)$/);
    expect(lambdaErrorDocument(cause)?.errorType).toBe('PipelineFailed');
  });

  it('cut in the trace: the whole message', () => {
    const message = 'P2 (position 2 of 3) execution e-2 ended Failed: "quoted" \\ and more';
    const cause = JSON.stringify({ errorType: 'PipelineFailed', errorMessage: message, trace: ['x'.repeat(40_000)] }).slice(0, maxCauseLength);

    expect(causeMessage(cause)).toBe(message);
  });

  it('an empty message: the error type says what there is', () => {
    expect(causeMessage(JSON.stringify({ errorType: 'Error', errorMessage: '', trace: [] }))).toBe('Error with no message');
  });

  it('an error document without a message: kept whole, rather than lose what it says', () => {
    const cause = JSON.stringify({ errorType: 'Runtime.ExitError' });

    expect(lambdaErrorDocument(cause)).toEqual({ errorType: 'Runtime.ExitError' });
    expect(causeMessage(cause)).toBe(cause);
  });
});
