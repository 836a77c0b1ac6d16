import { readFileSync } from 'node:fs';
import { loadDefinition } from '../../local/definition.js';
import { mermaid, withDiagram } from '../../local/diagram.js';

describe('README.md', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('shows the diagram of the definition as it is now (run `npm run diagram` after changing it)', () => {
    expect(readme).toBe(withDiagram(readme, mermaid(loadDefinition())));
  });

  it('opens with the two commands: install-and-test, then the local run', () => {
    const commands = [...readme.matchAll(/^```(?:sh|bash)\n([\s\S]*?)```/gm)].map((match) => match[1]!.trim());

    expect(commands[0]).toBe('npm ci && npm test');
    expect(commands[1]).toBe('npm start');
  });

  it('documents every error name Step Functions can see in the failure table', () => {
    const errorsModule = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
    const names = [...errorsModule.matchAll(/this\.name = '([A-Za-z.]+)'|: '(Pipeline[A-Za-z]+)'/g)].map((match) => match[1] ?? match[2]);

    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const name of names) expect(readme).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });
});
