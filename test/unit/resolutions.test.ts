import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../local/stage.js';

/**
 * local/resolutions.mjs in processes of their own, as each command is one: the kept file is
 * written as a process ends. Each has a temporary directory (TMPDIR) of the test's own, and a
 * project of its own whose node_modules/.package-lock.json stands for the installed packages.
 */
let scratch: string;
let project: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'sequencer-resolutions-'));
  project = join(scratch, 'project');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  writeFileSync(join(project, 'node_modules', '.package-lock.json'), '{}');
});
afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

interface Steps {
  /** Each a cache of its own in the one process, as two hooks would be: [key, url][] to set. */
  caches: [string, string][][];
  /** Keys to look up in a first cache before anything is set. */
  get?: string[];
}

/** What one process looked up, with the caches' sets made after the lookups (in `env` added to the environment). */
const inProcess = (steps: Steps, env: Record<string, string> = {}) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    const script = `import { resolutionCache } from ${JSON.stringify(pathToFileURL(join(projectRoot, 'local/resolutions.mjs')).href)};
const steps = ${JSON.stringify(steps)};
const caches = steps.caches.map(() => resolutionCache(new URL(${JSON.stringify(pathToFileURL(`${project}/`).href)})));
const seen = Object.fromEntries((steps.get ?? []).map((key) => [key, caches[0]?.get(key) ?? null]));
steps.caches.forEach((sets, index) => sets.forEach(([key, url]) => caches[index].set(key, { url, format: 'module' })));
process.stdout.write(JSON.stringify(seen));`;
    execFile(join(projectRoot, 'node_modules/node/bin/node'), ['--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: scratch, ...env } }, (error, stdout, stderr) =>
      error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as Record<string, unknown>),
    );
  });

/** A file of the project (made), as a URL: `node_modules/zod/v4/mini/index.js`, `src/run.ts`. */
const projectFile = (path: string) => {
  mkdirSync(dirname(join(project, path)), { recursive: true });
  writeFileSync(join(project, path), '');
  return pathToFileURL(join(project, path)).href;
};
let inPackages: string;
let ownFile: string;
beforeEach(() => {
  inPackages = projectFile('node_modules/zod/v4/mini/index.js');
  ownFile = projectFile('src/run.ts');
});
const keptDirectory = () => join(scratch, `codepipeline-sequencer-${process.getuid!()}`, 'resolutions');

describe('where each package was found, kept for the next command', () => {
  it('answers the next process with what the last one found in node_modules, never a file of the project', async () => {
    // Prepare
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages], ['b\n./run.js\nimport', ownFile]]] });

    // Act
    const seen = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport', 'b\n./run.js\nimport', 'a\nzod/mini\nrequire'] });

    // Assess
    expect(seen).toEqual({ 'a\nzod/mini\nimport': { url: inPackages, format: 'module', shortCircuit: true }, 'b\n./run.js\nimport': null, 'a\nzod/mini\nrequire': null });
    expect(readdirSync(keptDirectory())).toHaveLength(1);
  });

  it('starts anew once the packages are installed again (npm rewrites node_modules/.package-lock.json)', async () => {
    // Prepare
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages]]] });

    // Act
    utimesSync(join(project, 'node_modules', '.package-lock.json'), new Date(), new Date(Date.now() + 60_000));
    const seen = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport'] });

    // Assess
    expect(seen).toEqual({ 'a\nzod/mini\nimport': null });
  });

  it('adds to what another command kept meanwhile, rather than writing over it', async () => {
    // Prepare: two caches in one process stand for two commands ending one after the other, each
    // having read the file before the other wrote it.
    const yaml = projectFile('node_modules/yaml/dist/index.js');
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages]], [['c\nyaml\nimport', yaml]]] });

    // Act
    const seen = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport', 'c\nyaml\nimport'] });

    // Assess
    expect(Object.values(seen).map((kept) => (kept as { url: string } | null)?.url)).toEqual([inPackages, yaml]);
    expect(readdirSync(keptDirectory())).toHaveLength(1);
  });

  it("looks up anew a kept file that is gone, and never keeps a package found outside the project's node_modules", async () => {
    // Prepare: a linked package's dependency lives in that package's own node_modules, out of
    // sight of the project's .package-lock.json.
    mkdirSync(join(scratch, 'linked/node_modules/qux'), { recursive: true });
    writeFileSync(join(scratch, 'linked/node_modules/qux/index.js'), '');
    const linked = pathToFileURL(join(scratch, 'linked/node_modules/qux/index.js')).href;
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages], ['d\nqux\nimport', linked]]] });

    // Act
    rmSync(join(project, 'node_modules/zod'), { recursive: true });
    const seen = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport', 'd\nqux\nimport'] });

    // Assess
    expect(seen).toEqual({ 'a\nzod/mini\nimport': null, 'd\nqux\nimport': null });
  });

  it("starts anew under other Node options (--preserve-symlinks, NODE_PATH change what a specifier names)", async () => {
    // Prepare
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages]]] });

    // Act
    const withOptions = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport'] }, { NODE_OPTIONS: '--preserve-symlinks' });
    const withPath = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport'] }, { NODE_PATH: scratch });
    const asBefore = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport'] });

    // Assess
    expect([withOptions, withPath].map((seen) => seen['a\nzod/mini\nimport'])).toEqual([null, null]);
    expect(asBefore['a\nzod/mini\nimport']).toMatchObject({ url: inPackages });
  });

  it('reads a damaged file as nothing kept, and writes it whole again', async () => {
    // Prepare
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages]]] });
    const [kept] = readdirSync(keptDirectory());
    writeFileSync(join(keptDirectory(), kept!), '{"a\\nzod/mini\\nimport": {"url": ');

    // Act
    const damaged = await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages]]], get: ['a\nzod/mini\nimport'] });
    const rewritten = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport'] });

    // Assess
    expect(damaged).toEqual({ 'a\nzod/mini\nimport': null });
    expect(rewritten).toEqual({ 'a\nzod/mini\nimport': { url: inPackages, format: 'module', shortCircuit: true } });
  });

  it("keeps nothing where others may write the user's own directory, nor without installed packages", async () => {
    // Prepare: the user's own directory open to everyone, once made.
    await inProcess({ caches: [[]] });
    chmodSync(join(scratch, `codepipeline-sequencer-${process.getuid!()}`), 0o777);
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages]]] });
    chmodSync(join(scratch, `codepipeline-sequencer-${process.getuid!()}`), 0o700);
    const afterOpen = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport'] });
    rmSync(join(project, 'node_modules', '.package-lock.json'));

    // Act
    await inProcess({ caches: [[['a\nzod/mini\nimport', inPackages]]] });
    const withoutPackages = await inProcess({ caches: [[]], get: ['a\nzod/mini\nimport'] });

    // Assess
    expect(afterOpen).toEqual({ 'a\nzod/mini\nimport': null });
    expect(withoutPackages).toEqual({ 'a\nzod/mini\nimport': null });
  });
});
