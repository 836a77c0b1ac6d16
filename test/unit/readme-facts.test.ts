import { readFileSync } from 'node:fs';

/** AWS facts the README must state, each as Step Functions and CloudFormation behave (issue 17, section 6). */
describe('README.md states what AWS does with a failed run and a retained stage', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');

  it('says a failed execution can be redriven only within 14 days', () => {
    expect(readme).toContain('A failed, timed-out or aborted execution can be redriven only within 14 days of its end');
  });

  it('says a redrive replays the original definition against the current function code', () => {
    expect(readme).toContain("a redrive replays the execution's original definition against the current function code");
  });

  it('says what retainStateMachine keeps: the state machine and its log group, nothing else', () => {
    expect(readme).toMatch(/`retainStateMachine: true` \(prod\) keeps two resources .*the state machine\*\* .*and its log group\*\*/);
    expect(readme).toContain('Everything else goes: the functions, both roles, the topic, the rules, the alarms, the schedule.');
  });

  it('says what a redeploy does after a retained stage was deleted, and the ways out', () => {
    expect(readme).toContain('Redeploying a stage whose retained resources are still there** fails');
    expect(readme).toMatch(/delete both first .*resource import .*another stage name/);
  });
});
