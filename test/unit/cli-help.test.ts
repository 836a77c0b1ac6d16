import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { main } from '../../bin/cli.js';

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What one command line prints and how it exits, run in this process. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await main(argv, new AbortController().signal);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The options a help's Usage line names, and those its Options section explains. */
function optionsOf(help: string): { usage: string[]; explained: string[] } {
  const usageLine = help.split('\n')[0]!;
  const usage = [...usageLine.matchAll(/(?<![\w-])(--[a-z][\w-]*)/g)].map((match) => match[1]!);
  const section = help.split('\nOptions:\n')[1]!.split('\n\n')[0]!;
  const explained = [...section.matchAll(/^ {2}(?:-\w, )?(--[a-z][\w-]*)/gm)].map((match) => match[1]!).filter((option) => option !== '--help');
  return { usage: [...new Set(usage)].sort(), explained: [...new Set(explained)].sort() };
}

beforeEach(() => {
  jest.restoreAllMocks();
});

describe('each command’s help', () => {
  it.each(['run', 'emulator', 'status', 'start', 'stop', 'redrive', 'version'])('%s: the Usage line names every option the help explains, and no other', async (command) => {
    const { code, stdout } = await cli('help', command);

    expect(code).toBe(0);
    const { usage, explained } = optionsOf(stdout);
    expect(usage).toEqual(explained);
  });

  it('stop, which does not follow the train, lists only the exit codes it can return', async () => {
    const { stdout } = await cli('stop', '--help');

    const codes = [...stdout.split('Exit codes:\n')[1]!.matchAll(/^ {2}(\d+)/gm)].map((match) => Number(match[1]));
    expect(codes).toEqual([0, 2, 3]);
  });

  it('status, which follows the train but never refuses on purpose, lists no 3', async () => {
    const { stdout } = await cli('status', '--help');

    const codes = [...stdout.split('Exit codes:\n')[1]!.matchAll(/^ {2}(\d+)/gm)].map((match) => Number(match[1]));
    expect(codes).toEqual([0, 1, 2, 130]);
  });

  it('a malformed option value is a bad command line: exit 2 with the usage hint', async () => {
    const plain = await cli('start', '--name', 'bad name!');

    expect(plain).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(/^sequencer: --name "bad name!" is not an execution name[^\n]*\nRun 'sequencer start --help' for usage\.\n$/) as string });
  });

  it('redrive, which can follow the train, lists 1 and 130 too', async () => {
    const { stdout } = await cli('redrive', '--help');

    const codes = [...stdout.split('Exit codes:\n')[1]!.matchAll(/^ {2}(\d+)/gm)].map((match) => Number(match[1]));
    expect(codes).toEqual([0, 1, 2, 3, 130]);
  });
});

describe('options that go together', () => {
  it.each([
    [['redrive', '--interval', '5'], '--interval goes with --wait'],
    [['start', '--interval', '5'], '--interval goes with --wait'],
    [['status', '--interval', '5'], '--interval goes with --watch'],
  ])('%j is refused before anything is asked of AWS', async (argv, reason) => {
    const { code, stderr } = await cli(...argv);

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`sequencer: ${reason}`);
  });
});

describe('a typo on the command line', () => {
  it.each([
    [['run', '--inptu', '{}'], "Unknown option '--inptu' (did you mean --input?)", "Run 'sequencer run --help' for usage."],
    [['start', '--oder', 'P1'], "Unknown option '--oder' (did you mean --order?)", "Run 'sequencer start --help' for usage."],
    [['run', '--dryrun'], "Unknown option '--dryrun' (did you mean --dry-run?)", "Run 'sequencer run --help' for usage."],
    [['run', '--bogus'], "Unknown option '--bogus'", "Run 'sequencer run --help' for usage."],
    [['runn'], "unknown command 'runn' (did you mean 'run'?); the commands are run, emulator, status, start, stop, redrive, help, version", "Run 'sequencer help' for usage."],
  ])('%j is refused naming what it most likely meant', async (argv, reason, hint) => {
    const { code, stderr } = await cli(...argv);

    expect(code).toBe(2);
    expect(stderr.split('\n').slice(0, 2)).toEqual([`sequencer: ${reason}`, hint]);
  });
});

describe('--order, --sequence, --from and --dry-run laid over the input', () => {
  it.each([
    [['start', '--order', 'P1', '--input', '{"order":["P2"]}'], '--order and "order" in --input: give one of them'],
    [['start', '--dry-run', '--input', '{"dryRun":false}'], '--dry-run and "dryRun" in --input: give one of them'],
    [['run', '--order', 'P1,,P2'], "--order 'P1,,P2': entry 2 is empty (a comma too many?); entries are separated by commas, a group's members joined by +, e.g. --order P1,P2+P3,P4"],
    [['start', '--order', 'P1,P2+,P3'], "--order 'P1,P2+,P3': entry 2 has an empty member (a + too many?); entries are separated by commas, a group's members joined by +, e.g. --order P1,P2+P3,P4"],
    [['run', '--sequence', 'release', '--input', '[1]'], "--input must be a JSON object to take --sequence, e.g. '{\"order\":[\"P1\",\"P2\"]}'"],
  ])('%j is refused before anything runs', async (argv, reason) => {
    const { code, stderr } = await cli(...argv);

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`sequencer: ${reason}`);
  });
});

describe('--execution given as an ARN beside --region or --stage that say otherwise', () => {
  const devRun = 'arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:s1';
  it.each([
    [['stop', '--stage', 'prod', '--execution', devRun], '--execution is a run of codepipeline-sequencer-dev, but --stage prod is codepipeline-sequencer-prod; give one of them'],
    [['redrive', '--stage', 'prod', '--execution', devRun], '--execution is a run of codepipeline-sequencer-dev, but --stage prod is codepipeline-sequencer-prod; give one of them'],
    [['status', '--region', 'eu-west-1', '--execution', devRun], '--execution is in region us-east-1, but --region says eu-west-1; give one of them'],
  ])('%j is refused before any call: another stage’s or region’s run is never acted on unasked', async (argv, reason) => {
    const { code, stderr } = await cli(...argv);

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`sequencer: ${reason}`);
  });

  it('takes the ARN when --stage names its own state machine', async () => {
    // Refused only later, by the endpoint nothing listens at: the stage check let it through.
    const { code, stderr } = await cli('status', '--stage', 'dev', '--execution', devRun);

    expect(code).toBe(2);
    expect(stderr).not.toContain('give one of them');
  });
});

describe('start refusing its input, before anything is asked of AWS', () => {
  it('says nothing was started after a single problem', async () => {
    const { code, stderr } = await cli('start', '--input', '{"dryRun":"yes"}');

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('sequencer: InvalidInput: dryRun: must be true or false; nothing was started');
  });

  it('says it once before numbered problems, not inside the last of them', async () => {
    const { code, stderr } = await cli('start', '--input', '{"dryRun":"yes","onFailure":"retry"}');

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(/^sequencer: InvalidInput: 2 problems, nothing was started: 1\) \w+: .*; 2\) \w+: must be [^;]*$/);
  });
});

describe('help and version themselves', () => {
  it.each([['help', 'help'], ['help']])('%j shows the overview, which says what help does', async (...argv) => {
    const { code, stdout } = await cli(...argv);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: sequencer <command> \[options\]\n/);
    expect(stdout).toContain("help       Show this help, or 'sequencer help <command>' a command's");
  });

  it.each([['help', 'version'], ['version', '--help'], ['-V', '-h']])('%j shows version’s own help', async (...argv) => {
    const { code, stdout } = await cli(...argv);

    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe('Usage: sequencer version [--json]');
  });

  it('version --json prints one JSON document with the version from package.json', async () => {
    const { code, stdout } = await cli('version', '--json');

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ name: 'codepipeline-sequencer', version: packageVersion, node: process.version });
  });

  it.each([
    [['version', '--jsn'], "sequencer: version takes no option '--jsn'; it knows only --json"],
    [['--version', 'now'], "sequencer: version takes no argument 'now'; it knows only --json"],
  ])('%j is refused, exit 2, pointing at version’s help', async (argv, line) => {
    const { code, stdout, stderr } = await cli(...argv);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${line}\nRun 'sequencer version --help' for usage.\n`);
  });

  it.each([['help', '--help'], ['help', '-h']])('%j shows the overview', async (...argv) => {
    const { code, stdout } = await cli(...argv);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: sequencer <command> \[options\]\n/);
  });

  it.each([[[]], [['bogus']]])('%j names help and version among the commands', async (argv) => {
    const { code, stderr } = await cli(...argv);

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(/the commands are run, emulator, status, start, stop, redrive, help, version$/);
  });

  it('a topic help does not know names help and version among the topics', async () => {
    const { code, stderr } = await cli('help', 'nope');

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe("sequencer: no help for 'nope'; the commands are run, emulator, status, start, stop, redrive, help, version");
  });
});
