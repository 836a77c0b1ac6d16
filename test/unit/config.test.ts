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
    [JSON.stringify({ ...stageConfig, maxPollSeconds: 10 }), 'STAGE_CONFIG.maxPollSeconds: must be at least pollSeconds'],
    [JSON.stringify({ ...stageConfig, defaultSequence: 'nightly' }), "STAGE_CONFIG.defaultSequence: 'nightly' is not one of the sequences"],
    [JSON.stringify({ ...stageConfig, onSuperseded: 'ignore' }), 'STAGE_CONFIG.onSuperseded'],
    [JSON.stringify({ ...stageConfig, onFailure: 'retry' }), 'STAGE_CONFIG.onFailure'],
    // Only lower than the real budget, and never so low that an execution cannot take a step.
    [JSON.stringify({ ...stageConfig, continueAtEvents: 24_001 }), 'STAGE_CONFIG.continueAtEvents: must be at most 24000'],
    [JSON.stringify({ ...stageConfig, continueAtEvents: 499 }), 'STAGE_CONFIG.continueAtEvents: must be at least 500'],
  ])('refuses %s with ConfigurationError', (raw, message) => {
    expect(() => parseStageConfig(raw)).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining(message) }));
  });
});
