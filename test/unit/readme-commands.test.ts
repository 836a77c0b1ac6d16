import { existsSync, readFileSync } from 'node:fs';

/**
 * A README command never fetches a package from the registry: `npx sequencer` typed outside the
 * checkout runs an unrelated public package called `sequencer`, and in CI (npm's `yes` set) it
 * does so without asking. `npx --no` runs only what this checkout installed.
 */
const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { allowScripts?: Record<string, boolean> };

/** `npx ...` and `npm exec ...` as they appear anywhere in the README: code blocks, inline code, prose. */
const invocations = (tool: 'npx' | 'npm exec') => [...readme.matchAll(new RegExp(`(?<![\\w-])${tool} (\\S+)(?: (\\S+))?`, 'g'))];

describe('README commands', () => {
  it('runs every npx with --no, and only a binary this checkout installs', () => {
    // Prepare
    const found = invocations('npx');

    // Assess
    expect(found.length).toBeGreaterThanOrEqual(10);
    for (const [text, rawFlag, bin] of found) {
      const flag = rawFlag!.replace(/[`'".,;:)]+$/, '');
      expect({ text, flag }).toEqual({ text, flag: '--no' });
      // Prose that names the form (`npx --no`) runs nothing: no binary to check.
      if (flag !== rawFlag || bin === undefined) continue;
      const binary = bin!.replace(/[`'".,;:)]+$/, '');
      if (binary === '<bin>') continue;
      expect({ binary, installed: existsSync(new URL(`node_modules/.bin/${binary}`, root)) }).toEqual({ binary, installed: true });
    }
  });

  it('runs every npm exec with --no', () => {
    for (const [text, flag] of invocations('npm exec')) expect({ text, flag }).toEqual({ text, flag: '--no' });
  });
});

describe('install scripts', () => {
  it('reviews every dependency install script in package.json allowScripts, so npm ci does not warn', () => {
    // Prepare
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    // The project's own entry ("") has its postinstall: that one is ours, not a dependency's.
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));

    // Assess
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => typeof manifest.allowScripts?.[name] !== 'boolean')).toEqual([]);
    // The node devDependency's preinstall is what fetches Node 24: it must run.
    expect(manifest.allowScripts?.node).toBe(true);
  });
});
