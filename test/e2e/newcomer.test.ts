import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The rough edges a newcomer hit (issue 18, section 3), each through the real binary: a separate
 * process, judged by its exit code and what it prints where.
 */
interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Colour, CI and log settings of the machine running the tests must not leak in. */
const cleanEnv = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['NO_COLOR', 'FORCE_COLOR', 'GITHUB_ACTIONS', 'SEQUENCER_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'AWS_ENDPOINT_URL_SFN']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
};

const sequencer = (args: string[], extraEnv: Record<string, string> = {}, stdin?: string) =>
  new Promise<Result>((resolve) => {
    const child = execFile('node', ['bin/sequencer.js', ...args], { env: cleanEnv(extraEnv) }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin ?? '');
  });

const directory = mkdtempSync(join(tmpdir(), 'sequencer-newcomer-'));
const file = (name: string, content: unknown) => {
  const path = join(directory, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const startTime = '2026-01-01T00:00:00Z';
const quick = file('quick.json', {
  startTime,
  pipelines: [
    { name: 'P1', durationSeconds: 300 },
    { name: 'P2', durationSeconds: 300 },
    { name: 'P3', durationSeconds: 300 },
  ],
});

describe('function logs', () => {
  it('go to stderr, so SEQUENCER_LOG_LEVEL=INFO run --json keeps stdout one JSON document', async () => {
    // Act
    const { code, stdout, stderr } = await sequencer(['run', '--world', quick, '--json'], { SEQUENCER_LOG_LEVEL: 'INFO' });

    // Assess
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { status: string }).status).toBe('SUCCEEDED');
    const logs = stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { message: string; timestamp: string });
    expect(logs.map((log) => log.message)).toContain('order decided');
  });

  it('carry the simulated time of the run, not the wall clock', async () => {
    // Act
    const { stdout, stderr } = await sequencer(['run', '--world', quick, '--json'], { SEQUENCER_LOG_LEVEL: 'INFO' });

    // Assess
    const { stats } = JSON.parse(stdout) as { stats: { simulatedSeconds: number } };
    const times = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => Date.parse((JSON.parse(line) as { timestamp: string }).timestamp));
    expect(times.length).toBeGreaterThan(5);
    expect(times[0]).toBe(Date.parse(startTime));
    expect(Math.max(...times)).toBeGreaterThanOrEqual(Date.parse(startTime) + 900_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(Date.parse(startTime) + stats.simulatedSeconds * 1000);
  });

  it('stay off by default', async () => {
    const { code, stderr } = await sequencer(['run', '--world', quick, '--json']);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe("the sequencer's own answer, not a CLI guess", () => {
  it.each([
    ['a name with a space', '{"order":["P 1"]}', 'got "P 1"'],
    ['a name with a newline, shown as a JSON string', '{"order":["P1\\n"]}', 'got "P1\\n"'],
    ['a name given twice', '{"order":["P1","P9","P9"]}', "'P9' appears twice"],
  ])('%s is InvalidInput from decide-order, never "add it to the world"', async (_, input, cause) => {
    // Act
    const { code, stdout, stderr } = await sequencer(['run', '--world', quick, '--input', input, '--json']);

    // Assess
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { status: string; error: string; cause: string };
    expect({ status: report.status, error: report.error }).toEqual({ status: 'FAILED', error: 'InvalidInput' });
    expect(report.cause).toContain(cause);
    expect(stderr).not.toContain('world');
  });

  it('a pipeline the world lacks is named as a JSON string, and --json prints one report with error and cause', async () => {
    // Act
    const { code, stdout, stderr } = await sequencer(['run', '--world', quick, '--input', '{"order":["P1","P9"]}', '--json']);

    // Assess
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as { status: string; error: string; cause: string };
    expect(report).toEqual({ status: 'REFUSED', error: 'WorldFileError', cause: expect.stringContaining(`"P9" is in the input order but not in the world file ${quick}`) });
    expect(stderr.trim().split('\n')).toEqual([`sequencer: ${report.cause}`]);
  });

  it('--json with input that is not JSON still prints one report', async () => {
    const { code, stdout } = await sequencer(['run', '--input', '{order', '--json']);

    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ status: 'REFUSED', error: 'UsageError', cause: expect.stringMatching(/^--input is not valid JSON: /) });
  });
});

describe('GitHub Actions mode', () => {
  it.each([
    ['a bad command line', ['run', '--bogus'], 'bad command line'],
    ['a bad world file', ['run', '--world', file('empty.json', { startTime, pipelines: [] })], 'bad world file'],
  ])('%s is an ::error:: annotation, and still exit 2', async (_, args, title) => {
    // Act
    const { code, stderr } = await sequencer(args, { GITHUB_ACTIONS: 'true' });

    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^::error title=sequencer%3A ${title}::\\S`, 'm'));
  });

  it('a failed run prints FAILED once in the merged log', async () => {
    // Prepare
    const failing = file('failing.json', {
      startTime,
      pipelines: [
        { name: 'P1', durationSeconds: 300, outcome: 'Failed', statusSummary: 'Unit tests failed' },
        { name: 'P2', durationSeconds: 300 },
        { name: 'P3', durationSeconds: 300 },
      ],
    });

    // Act
    const { code, stdout, stderr } = await sequencer(['run', '--world', failing], { GITHUB_ACTIONS: 'true' });

    // Assess
    expect(code).toBe(1);
    expect(`${stdout}${stderr}`.match(/FAILED/g)).toHaveLength(1);
    expect(stdout).toMatch(/^::error title=sequencer%3A PipelineFailed::P1 /m);
  });
});
