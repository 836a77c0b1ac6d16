import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
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

/** Where this user's answers live (local/remembered.ts). */
const ownDirectory = join(tmpdir(), `codepipeline-sequencer-${process.getuid!()}`);

afterEach(() => {
  rmSync(join(ownDirectory, kind), { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('an answer remembered across processes', () => {
  it('is recalled under the same inputs only, and written whole (no partial file left)', () => {
    keep(kind, ['a', 'b'], 'answer');

    expect(recall(kind, ['a', 'b'])).toBe('answer');
    expect(recall(kind, ['a', 'c'])).toBeUndefined();
    expect(recall(kind, ['ab'])).toBeUndefined();
    expect(recall(`${kind}-other`, ['a', 'b'])).toBeUndefined();
    expect(readdirSync(join(ownDirectory, kind))).toHaveLength(1);
  });

  it("is kept and recalled only in a directory of this user's own, which no one else may write, as is Node's compile cache", async () => {
    // In a process of its own with a temporary directory of its own: opening the user's real
    // directory to everyone, even for a moment, would let anyone put a directory in it.
    const script = `import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileCacheDirectory, ownDirectory } from ${JSON.stringify(join(projectRoot, 'local/own-directory.mjs'))};
import { keep, recall } from ${JSON.stringify(join(projectRoot, 'local/remembered.ts'))};
const seen = {};
keep('kind', ['a'], 'answer');
const own = ownDirectory();
seen.mode = (statSync(own).mode & 0o777).toString(8);
seen.cache = compileCacheDirectory() === join(own, 'compile-cache');
chmodSync(own, 0o777);
seen.whileOpen = { cache: compileCacheDirectory() ?? null, recalled: recall('kind', ['a']) ?? null };
keep('kind', ['b'], 'planted');
chmodSync(own, 0o700);
seen.afterwards = { recalled: recall('kind', ['a']) ?? null, keptWhileOpen: recall('kind', ['b']) ?? null };
chmodSync(join(own, 'kind'), 0o777);
chmodSync(join(own, 'compile-cache'), 0o777);
seen.subdirectoriesOpen = { recalled: recall('kind', ['a']) ?? null, cache: compileCacheDirectory() ?? null };
process.stdout.write(JSON.stringify(seen));`;

    const stdout = await new Promise<string>((resolve) =>
      execFile(join(projectRoot, 'node_modules/node/bin/node'), ['--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: scratch, NODE_COMPILE_CACHE: '' } }, (_error, out, err) => resolve(out || err)),
    );

    expect(JSON.parse(stdout)).toEqual({
      mode: '700',
      cache: true,
      whileOpen: { cache: null, recalled: null },
      afterwards: { recalled: 'answer', keptWhileOpen: null },
      subdirectoriesOpen: { recalled: null, cache: null },
    });
  });

  it('reads whole or not at all while other processes write it (each written beside its place, then renamed)', async () => {
    const writers = ['A', 'B', 'C'].map(
      (letter) =>
        new Promise<string>((resolve) => {
          const script = `import { keep, recall } from ${JSON.stringify(join(projectRoot, 'local/remembered.ts'))};
const answers = ['A', 'B', 'C'].map((letter) => letter.repeat(200_000));
const seen = new Set();
for (let round = 0; round < 150; round += 1) {
  keep(${JSON.stringify(kind)}, ['shared'], answers[round % 3]);
  const read = recall(${JSON.stringify(kind)}, ['shared']);
  seen.add(answers.includes(read) ? 'whole' : 'damaged: ' + String(read?.length));
}
process.stdout.write([...seen].join(','));`;
          execFile(join(projectRoot, 'node_modules/node/bin/node'), ['--input-type=module', '-e', script], { env: { ...process.env, WRITER: letter } }, (_error, stdout, stderr) =>
            resolve(stdout || stderr),
          );
        }),
    );

    expect(await Promise.all(writers)).toEqual(['whole', 'whole', 'whole']);
    expect(readdirSync(join(ownDirectory, kind))).toHaveLength(1);
  });

  it('is simply not kept where the directory cannot be written', () => {
    mkdirSync(ownDirectory, { recursive: true, mode: 0o700 });
    writeFileSync(join(ownDirectory, kind), 'a file where the directory would be');

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

  it('parses a damaged answer anew, and keeps it whole again', () => {
    const path = join(scratch, 'file.yml');
    writeFileSync(path, unique('name: whole\n'));
    keep('parsed-yaml', [yamlVersion, unique('name: whole\n')], '{"name":"wh');

    expect(readYamlFile(path)).toEqual({ name: 'whole' });
    expect(recall('parsed-yaml', [yamlVersion, unique('name: whole\n')])).toBe('{"name":"whole"}');
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
