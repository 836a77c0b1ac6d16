import { causeMessage, lambdaErrorDocument } from '../../src/lambda-cause.js';

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

  it('an error document without a message: kept whole, rather than lose what it says', () => {
    const cause = JSON.stringify({ errorType: 'Runtime.ExitError' });

    expect(lambdaErrorDocument(cause)).toEqual({ errorType: 'Runtime.ExitError' });
    expect(causeMessage(cause)).toBe(cause);
  });
});
