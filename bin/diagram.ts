// `npm run diagram`: regenerates the README's Mermaid diagram from the definition.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadDefinition } from '../local/definition.js';
import { mermaid, withDiagram } from '../local/diagram.js';
import { projectRoot } from '../local/stage.js';

const readmePath = `${projectRoot}README.md`;
writeFileSync(readmePath, withDiagram(readFileSync(readmePath, 'utf8'), mermaid(loadDefinition())));
console.log('README.md diagram regenerated');
