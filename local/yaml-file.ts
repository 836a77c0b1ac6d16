import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { keep, recall } from './remembered.js';

const require = createRequire(import.meta.url);

/**
 * One of the project's YAML files (serverless.yml, the definition) as plain data. Loading the
 * yaml package and its first, unoptimised parse of the two files took about 55 ms of the 500 a
 * `sequencer run` takes, in every process. So the parse is remembered as JSON (local/remembered.ts),
 * under the file's text and the parser's version, and the parser is loaded only to parse a text it
 * has not seen. Only what JSON carries unchanged is remembered; anything else is parsed every time.
 */
export function readYamlFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  const dependsOn = [(require('yaml/package.json') as { version: string }).version, text];
  const known = recall('parsed-yaml', dependsOn);
  if (known !== undefined) {
    try {
      return JSON.parse(known) as unknown;
    } catch {
      // A damaged answer (a disk that lost the file's end): parsed again below, and kept whole.
    }
  }
  const { parse } = require('yaml') as typeof import('yaml');
  const value: unknown = parse(text);
  const json = JSON.stringify(value);
  if (json !== undefined && isDeepStrictEqual(JSON.parse(json), value)) keep('parsed-yaml', dependsOn, json);
  return value;
}
