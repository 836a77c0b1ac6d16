import { parseStageConfig } from '../../src/config.js';
import { stageConfig } from '../support/fixtures.js';

describe('stage configuration', () => {
  it('accepts what serverless.yml hands the functions', () => {
    expect(parseStageConfig(JSON.stringify(stageConfig))).toEqual(stageConfig);
  });

  it.each([
    [undefined, 'STAGE_CONFIG is not set'],
    ['{', 'STAGE_CONFIG is not valid JSON'],
    [JSON.stringify({ ...stageConfig, pollSeconds: 0 }), 'STAGE_CONFIG.pollSeconds'],
    [JSON.stringify({ ...stageConfig, pipelines: ['bad name'] }), 'STAGE_CONFIG.pipelines.0'],
    [JSON.stringify({ ...stageConfig, extra: 1 }), 'STAGE_CONFIG.'],
    [JSON.stringify({ ...stageConfig, maxPollSeconds: 10 }), 'STAGE_CONFIG.maxPollSeconds: must be at least pollSeconds (30)'],
    [JSON.stringify({ ...stageConfig, defaultSequence: 'nightly' }), "STAGE_CONFIG.defaultSequence: 'nightly' is not one of the sequences (release, hotfix)"],
    [JSON.stringify({ ...stageConfig, onSuperseded: 'ignore' }), 'STAGE_CONFIG.onSuperseded'],
    [JSON.stringify({ ...stageConfig, onFailure: 'retry' }), 'STAGE_CONFIG.onFailure'],
    // Only lower than the real budget, and never so low that an execution cannot take a step.
    [JSON.stringify({ ...stageConfig, continueAtEvents: 24_001 }), 'STAGE_CONFIG.continueAtEvents: must be at most 24000'],
    [JSON.stringify({ ...stageConfig, continueAtEvents: 499 }), 'STAGE_CONFIG.continueAtEvents: must be at least 500'],
  ])('refuses %s with ConfigurationError', (raw, message) => {
    expect(() => parseStageConfig(raw)).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining(message) }));
  });

  it('names every problem in one ConfigurationError, the rules between params beside the schema\'s', () => {
    // Prepare: a shape problem, and two rules between params whose params are sound.
    const raw = JSON.stringify({ ...stageConfig, onFailure: 'retry', maxPollSeconds: 10, defaultSequence: 'nightly' });

    // Act
    const attempt = () => parseStageConfig(raw);

    // Assess
    expect(attempt).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message:
          "STAGE_CONFIG.onFailure: must be 'fail' or 'wait'; STAGE_CONFIG.maxPollSeconds: must be at least pollSeconds (30); " +
          "STAGE_CONFIG.defaultSequence: 'nightly' is not one of the sequences (release, hotfix)",
      }),
    );
  });
});
