import { closestName } from '../../src/field-path.js';

const fields = ['order', 'sequence', 'variables', 'from', 'dryRun', 'onSuperseded', 'onFailure', 'pipelineTimeoutSeconds'];

describe('closestName: the field a typo meant', () => {
  it.each([
    ['oder', 'order'],
    ['ordr', 'order'],
    ['sequnce', 'sequence'],
    ['sequecne', 'sequence'],
    ['varaibles', 'variables'],
    ['dry_run', 'dryRun'],
    ['DryRun', 'dryRun'],
    ['on-failure', 'onFailure'],
    ['onSupersede', 'onSuperseded'],
    ['pipelineTimeoutSecond', 'pipelineTimeoutSeconds'],
  ])('%s → %s', (typed, meant) => {
    expect(closestName(typed, fields)).toBe(meant);
  });

  it.each(['timeout', 'to', 'fromage', 'xyz', 'seq', ''])('%j is like no field', (typed) => {
    expect(closestName(typed, fields)).toBeUndefined();
  });

  it('prefers the nearest of two candidates', () => {
    expect(closestName('ordre', ['orders', 'order'])).toBe('order');
    expect(closestName('ordres', ['order', 'orders'])).toBe('orders');
  });
});
