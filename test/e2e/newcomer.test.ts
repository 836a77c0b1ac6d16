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
