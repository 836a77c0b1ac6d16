import { loadDefinition, type Definition } from '../../local/definition.js';
import { mermaid } from '../../local/diagram.js';

describe('the README diagram generator', () => {
  it('draws a Choice rule by its condition, never by its Comment', () => {
    // Prepare
    const definition = {
      StartAt: 'Phase?',
      States: {
        'Phase?': {
          Type: 'Choice',
          Choices: [{ Comment: 'a continued run resumes watching', Variable: '$.run.phase', StringEquals: 'watch', Next: 'Done' }],
          Default: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    } satisfies Definition;

    // Act
    const diagram = mermaid(definition);

    // Assess
    expect(diagram).toContain('Phase -- "run.phase = watch" --> Done');
    expect(diagram).not.toContain('Comment');
  });

  it('draws the continuation as the Step Functions StartExecution integration, our functions as λ', () => {
    // Act
    const diagram = mermaid(loadDefinition());

    // Assess
    expect(diagram).toContain('ContinueAsNewExecution["ContinueAsNewExecution<br/><i>Step Functions StartExecution</i>"]');
    expect(diagram).toContain('CheckPipelines["CheckPipelines<br/><i>λ checkStatus</i>"]');
    expect(diagram).not.toMatch(/λ task/);
    expect(diagram).not.toMatch(/ -- "[^"]*Comment/);
  });
});
