import { LambdaClient as RealLambdaClient, InvokeCommand as RealInvokeCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import aslValidator from '../../local/deferred/asl-validator.js';
import { InvokeCommand, LambdaClient } from '../../local/deferred/client-lambda.js';
import { definitionPath } from '../../local/definition.js';
import { keep, recall } from '../../local/remembered.js';
import { projectRoot } from '../../local/stage.js';
import { readYamlFile } from '../../local/yaml-file.js';

const yamlVersion = (createRequire(import.meta.url)('yaml/package.json') as { version: string }).version;
let scratch: string;
/** A kind of answer of this test's own, since the temporary directory is shared with every process. */
let kind: string;
/** A YAML text no other test writes, so that its parse was never kept before. */
let unique: (text: string) => string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'sequencer-remembered-'));
  kind = `test-${scratch.split('-').at(-1)}`;
  unique = (text) => `# ${scratch}\n${text}`;
});

afterEach(() => {
  rmSync(join(tmpdir(), `codepipeline-sequencer-${kind}`), { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('an answer remembered across processes', () => {
  it('is recalled under the same inputs only, and written whole (no partial file left)', () => {
    keep(kind, ['a', 'b'], 'answer');

    expect(recall(kind, ['a', 'b'])).toBe('answer');
    expect(recall(kind, ['a', 'c'])).toBeUndefined();
    expect(recall(kind, ['ab'])).toBeUndefined();
    expect(recall(`${kind}-other`, ['a', 'b'])).toBeUndefined();
    expect(readdirSync(join(tmpdir(), `codepipeline-sequencer-${kind}`))).toHaveLength(1);
  });

  it('is simply not kept where the directory cannot be written', () => {
    writeFileSync(join(tmpdir(), `codepipeline-sequencer-${kind}`), 'a file where the directory would be');

    expect(() => keep(kind, ['a'], 'answer')).not.toThrow();
    expect(recall(kind, ['a'])).toBeUndefined();
  });
});

describe('a YAML file read through the remembered parse', () => {
  it.each([
    ['serverless.yml', `${projectRoot}serverless.yml`],
    ['the definition', definitionPath],
  ])('%s reads as the yaml package parses it, the first time and from the kept JSON', (_name, path) => {
    const parsed: unknown = parse(readFileSync(path, 'utf8'));

    expect(readYamlFile(path)).toEqual(parsed);
    expect(recall('parsed-yaml', [yamlVersion, readFileSync(path, 'utf8')])).toBe(JSON.stringify(parsed));
    expect(readYamlFile(path)).toEqual(parsed);
  });

  it('answers from the kept JSON, and parses an edited file anew', () => {
    const path = join(scratch, 'file.yml');
    writeFileSync(path, unique('name: first\n'));
    keep('parsed-yaml', [yamlVersion, unique('name: first\n')], '{"name":"kept"}');

    expect(readYamlFile(path)).toEqual({ name: 'kept' });
    writeFileSync(path, unique('name: second\n'));
    expect(readYamlFile(path)).toEqual({ name: 'second' });
  });

  it('gives each caller its own copy to change', () => {
    const path = join(scratch, 'file.yml');
    writeFileSync(path, unique('list: [1, 2]\n'));
    (readYamlFile(path) as { list: number[] }).list.push(3);

    expect(readYamlFile(path)).toEqual({ list: [1, 2] });
  });

  it('keeps nothing JSON would change: .inf is Infinity every time', () => {
    const path = join(scratch, 'file.yml');
    writeFileSync(path, unique('limit: .inf\n'));

    expect(readYamlFile(path)).toEqual({ limit: Infinity });
    expect(recall('parsed-yaml', [yamlVersion, unique('limit: .inf\n')])).toBeUndefined();
    expect(readYamlFile(path)).toEqual({ limit: Infinity });
  });
});

describe("the interpreter's deferred imports (local/deferred/)", () => {
  it('asl-validator, loaded on its first call, judges as the package does', () => {
    const valid = { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } };
    const invalid = { StartAt: 'Missing', States: { Done: { Type: 'Succeed' } } };

    expect(aslValidator(valid).isValid).toBe(true);
    const refused = aslValidator(invalid);
    expect(refused.isValid).toBe(false);
    expect(refused.errorsText('\n')).toMatch(/Missing/);
  });

  it("the Lambda client and command, built with new, are the SDK's own, with what they were given", async () => {
    const client = new LambdaClient({ region: 'eu-west-1' });
    const command = new InvokeCommand({ FunctionName: 'f', Payload: new Uint8Array([1]) });

    expect(client).toBeInstanceOf(RealLambdaClient);
    expect(await client.config.region()).toBe('eu-west-1');
    expect(command).toBeInstanceOf(RealInvokeCommand);
    expect(command.input).toEqual({ FunctionName: 'f', Payload: new Uint8Array([1]) });
    client.destroy();
  });
});
