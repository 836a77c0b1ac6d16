import { readFileSync } from 'node:fs';

/**
 * `engines` says which Node the code needs, and it must be no looser than what every installed
 * package needs; the Node the project brings must satisfy them all; the README must say the same.
 */
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { engines: { node: string }; devEngines: { runtime: { version: string } } };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};

type Version = [number, number, number];
const parse = (text: string): Version => {
  const [major = 0, minor = 0, patch = 0] = text.replace(/^v/, '').split('.').map(Number);
  return [major, minor, patch];
};
const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Enough of npm's range grammar for engines fields: `||`, comparator sets, `^`, `~`, x-ranges. */
function satisfies(version: string, range: string): boolean {
  const wanted = parse(version);
  return range.split('||').some((set) =>
    set
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter((comparator) => comparator !== '')
      .every((comparator) => {
        const [, operator = '', bound = ''] = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(comparator)!;
        const parts = bound.split('.').filter((part) => part !== '' && part !== '*' && part.toLowerCase() !== 'x');
        const low = parse(parts.join('.'));
        const order = compare(wanted, low);
        if (operator === '>=') return order >= 0;
        if (operator === '>') return order > 0;
        if (operator === '<') return order < 0;
        if (operator === '<=') return order <= 0;
        // ^, ~ and x-ranges: at least the bound, below the next step of its last fixed part.
        // How many leading parts stay fixed: ^ up to the first non-zero, ~ major and minor, x-ranges those written.
        const firstNonZero = low.findIndex((part) => part !== 0);
        const fixed = operator === '^' ? (firstNonZero === -1 ? 3 : firstNonZero + 1) : operator === '~' ? Math.min(parts.length, 2) || 1 : parts.length;
        if (fixed === 0) return true;
        const high: Version = [...low.slice(0, fixed), ...[0, 0, 0].slice(fixed)] as Version;
        high[fixed - 1]! += 1;
        return order >= 0 && compare(wanted, high) < 0;
      }),
  );
}

const installed = Object.entries(lock.packages)
  .filter(([path, entry]) => path !== '' && !entry.optional && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
  .map(([path, entry]) => ({ name: path.replace(/^.*node_modules\//, ''), range: (entry.engines as { node: string }).node }));

describe('satisfies', () => {
  it.each([
    ['22.13.0', '^20.19.0 || ^22.13.0 || >=24', true],
    ['23.1.0', '^20.19.0 || ^22.13.0 || >=24', false],
    ['20.20.2', '>=22', false],
    ['24.21.0', '18 || 20 || >=22', true],
    ['21.0.0', '18 || 20 || >=22', false],
    ['14.18.0', '>=16 || 14 >=14.17', true],
    ['10.0.0', '6.* || 8.* || >= 10.*', true],
    ['9.0.0', '6.* || 8.* || >= 10.*', false],
    ['20.16.0', '^20.17.0 || >=22.9.0', false],
    ['5.0.0', '*', true],
    ['1.9.0', '~1', true],
    ['1.3.0', '~1.2.3', false],
    ['0.3.0', '^0.2.3', false],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });
});

describe('engines', () => {
  const ours = packageJson.engines.node;
  // The lowest version of each alternative of our range: if every package accepts those and
  // the newest we bring, our range asks for nothing less than what they need.
  const lowestOfOurs = ours.split('||').map((set) => /\d+(\.\d+)*/.exec(set)![0]);
  const projectNode = lock.packages['node_modules/node']!.version!;

  it('ask for no Node some installed package refuses', () => {
    const refusing = installed.flatMap(({ name, range }) =>
      [...lowestOfOurs, projectNode].filter((version) => !satisfies(version, range)).map((version) => `${name} (${range}) refuses ${version}`),
    );

    expect(refusing).toEqual([]);
  });

  it('are met by the Node the project brings', () => {
    expect(satisfies(projectNode, ours)).toBe(true);
  });

  it('are what the README says, beside the Node that only runs npm (devEngines)', () => {
    const readme = read('README.md');
    const lowest = lowestOfOurs[0]!.split('.').slice(0, 2).join('.');
    const npmNode = /\d+/.exec(packageJson.devEngines.runtime.version)![0];

    expect(readme).toContain(`The code itself needs Node ${lowest} or newer`);
    expect(readme).toContain(`Node ${npmNode} or newer on the PATH is enough to run npm`);
    expect(readme).toContain(`brings Node ${projectNode.split('.')[0]}`);
  });
});
