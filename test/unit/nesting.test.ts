import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { core } from '../../handlers/decide-order.js';
import { core as startPipeline } from '../../handlers/start-pipeline.js';
import { useClock } from '../../src/clock.js';
import { maxNestingDepth } from '../../src/field-path.js';
import { execution, useStageConfig } from '../support/fixtures.js';

/**
 * A hostile input nested thousands of levels deep once overflowed the validator's stack, and a
 * RangeError became the execution's error on AWS. It must be InvalidInput, named and bounded.
 */
const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const startTime = '2026-01-01T00:00:00.000Z';
const decide = (input: unknown) =>
  core({ input, execution: { ...execution, stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:s', startTime } });

/** `{"a":{"a":...1}}`, `levels` objects deep, built without recursion. */
function nested(levels: number, key = 'a'): unknown {
  let value: unknown = 1;
  for (let level = 0; level < levels; level += 1) value = { [key]: value };
  return value;
}

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  useStageConfig();
  useClock({ now: () => Date.parse(startTime) });
});

describe('deeply nested input', () => {
  it.each([4000, 100_000])('refuses %i levels as InvalidInput naming the limit, before calling AWS', async (levels) => {
    const attempt = decide(nested(levels, 'variables'));

    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidInput',
      message: `input: objects and arrays nested more than ${maxNestingDepth} levels deep; at most ${maxNestingDepth} are accepted`,
    });
    expect(codePipeline.calls()).toHaveLength(0);
    expect(stepFunctions.calls()).toHaveLength(0);
  });

  it('refuses deep arrays too, and in every handler that parses its event', async () => {
    let deepArray: unknown = [];
    for (let level = 0; level < 5000; level += 1) deepArray = [deepArray];

    await expect(decide({ order: deepArray })).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringMatching(/^input: /) });
    await expect(startPipeline({ plan: deepArray })).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringMatching(/^plan: /) });
  });

  it('lets the limit itself through to the usual checks', async () => {
    // `{ variables: ... }` inside the handler's event: the event is one level, so the input may use the rest.
    const atLimit = decide(nested(maxNestingDepth - 1, 'variables'));
    const overLimit = decide(nested(maxNestingDepth, 'variables'));

    await expect(atLimit).rejects.toMatchObject({ name: 'InvalidInput', message: expect.not.stringContaining('levels deep') });
    await expect(overLimit).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('levels deep') });
  });
});
