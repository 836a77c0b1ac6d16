import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, exitCode, type Result } from './binary.js';

/**
 * The README's recipes for trying the AWS commands against `sequencer emulator`, run exactly as
 * a reader (or a CI job's offline rehearsal) pastes them: as shell scripts, through npx.
 */

describe('the README’s emulator recipes, run as scripts, verbatim', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const projectRoot = new URL('../..', import.meta.url).pathname;
  const recipe = (world: string) => new RegExp(`\`\`\`bash\\n(npx --no sequencer emulator --world local/worlds/${world} [\\s\\S]*?)\`\`\``).exec(readme)![1]!;
  /** The lines of the README's text block after `intro`, without the elisions. */
  const sampleAfter = (intro: RegExp) =>
    new RegExp(`${intro.source}[^\\n]*\\n\\n\`\`\`text\\n([\\s\\S]*?)\`\`\``)
      .exec(readme)![1]!
      .split('\n')
      .filter((line) => line.trim() !== '' && line.trim() !== '...');
  /** The recipe's emulator as `ps` shows it, without the shell's quotes: another test's emulator of the same world, in another jest worker, is not it. */
  const emulatorArgs = (world: string) => recipe(world).split('\n')[0]!.replace(/^npx --no sequencer /, '').replace(/\s*>.*$/, '').replaceAll("'", '');
  /**
   * The processes this file's scripts left, found by a mark in their environment: a reader's own
   * emulator of the same world, in this checkout or another, is not one of them.
   */
  const mark = `README_RECIPE_RUN=${process.pid}`;
  const markedBy = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(mark);
    } catch {
      return false;
    }
  };
  const emulatorsOf = (world: string) =>
    execFileSync('ps', ['-eo', 'pid=,args='])
      .toString()
      .split('\n')
      .map((line) => /^\s*(\d+)\s(.*)$/.exec(line))
      .filter((match) => match !== null && match[2]!.includes(emulatorArgs(world)) && !match[2]!.includes('sh -e -c') && markedBy(match[1]!))
      .map((match) => match![2]!);
  const runScript = async (script: string, world: string) => {
    const result = await new Promise<Result>((resolve) => {
      const env = { ...cleanEnv(), README_RECIPE_RUN: String(process.pid) };
      execFile('sh', ['-e', '-c', script], { cwd: projectRoot, env, timeout: 150_000 }, (error, out, err) =>
        resolve({ code: exitCode(error), stdout: out, stderr: err }),
      );
    });
    for (let attempt = 0; attempt < 50 && emulatorsOf(world).length > 0; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    return result;
  };

  it('start --wait and status --watch against the emulator: as the README says, its sample printed, no emulator left behind', async () => {
    const sample = sampleAfter(/`start --wait` prints/);

    const { code, stdout, stderr } = await runScript(recipe('demo.json'), 'demo.json');

    expect({ code, errors: stderr.split('\n').filter((line) => line.startsWith('sequencer:')) }).toEqual({ code: 0, errors: [] });
    expect(sample.length).toBeGreaterThan(10);
    // Paced, the run starts wherever the wall clock has brought simulated time, so the sweeper's
    // minute may fall between a pipeline's end and its event, and the next start comes a second
    // earlier: whichever noticed each end, and to the second when, the lines are the same (a run
    // whose ends were all swept on the second lasts a whole number of minutes: '42 min').
    const noticed = (line: string) =>
      line
        .replace(/ \((event|sweep), \+[\d.]+ s\)$/, ' (noticed)')
        .replace(/\+\d+ s (event|sweep)(?= )/, '+N s noticed')
        .replace(/\+\d+:\d\d:\d\d/g, '+H:MM:SS')
        .replace(/ in \d+ min( \d+ s)? /, ' in M min S s ')
        .replace(/ · started \S+Z$/, ' · started T');
    const printed = stdout.split('\n').map(noticed);
    for (const line of sample) expect(printed).toContain(noticed(line));
    expect(stdout.match(/^SUCCEEDED {2}/gm)).toHaveLength(2);
    expect(existsSync(join(projectRoot, 'emulator.log'))).toBe(false);
    expect(emulatorsOf('demo.json')).toEqual([]);
  }, 180_000);

  it('an emulator that cannot start (a world file that is not there) ends the script at once with its refusal, rather than wait for a ready line for ever', async () => {
    const script = recipe('demo.json').replace('--world local/worlds/demo.json', '--world local/worlds/no-such-world.json');

    const { code, stdout, stderr } = await runScript(script, 'demo.json');
    // The script ended before its own clean-up.
    rmSync(join(projectRoot, 'emulator.log'), { force: true });

    expect(code).toBe(1);
    expect(stderr).toMatch(/^sequencer: .*local\/worlds\/no-such-world\.json/m);
    expect(stdout).not.toContain('Started ');
  }, 180_000);

  it('emulator --run, then status: the ready line waits for the run; status exits 1 with the failure; no emulator left behind', async () => {
    const { code, stdout, stderr } = await runScript(recipe('failing.json'), 'failing.json');

    expect(code).toBe(0);
    expect(stdout).toContain('FAILED  PipelineFailed: P2 (position 2 of 3)');
    expect(stdout).toMatch(/^status: exit 1$/m);
    expect(stderr).toMatch(/^sequencer: FAILED {2}PipelineFailed: P2/m);
    expect(existsSync(join(projectRoot, 'emulator.log'))).toBe(false);
    expect(emulatorsOf('failing.json')).toEqual([]);
  }, 180_000);
});
