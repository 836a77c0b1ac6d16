import { exec, spawn } from 'node:child_process';
import { cleanEnv, exitCode, once, type Result, scratchFiles, sequencer, warmSequencer } from './binary.js';

/**
 * The rough edges a newcomer hit (issue 18, section 3), each through the binary's main() (in a
 * process kept warm, warmSequencer; the real binary where stdin or the log level matters), judged
 * by its exit code and what it prints where.
 */


const file = scratchFiles('sequencer-newcomer-');
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
  const withLogs = once(() => sequencer(['run', '--world', quick, '--json'], { SEQUENCER_LOG_LEVEL: 'INFO' }));

  it('go to stderr, so SEQUENCER_LOG_LEVEL=INFO run --json keeps stdout one JSON document', async () => {
    // Act
    const { code, stdout, stderr } = await withLogs();

    // Assess
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { status: string }).status).toBe('SUCCEEDED');
    const logs = stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { message: string; timestamp: string });
    expect(logs.map((log) => log.message)).toContain('order decided');
  });

  it('carry the simulated time of the run, not the wall clock', async () => {
    // Act
    const { stdout, stderr } = await withLogs();

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
    const { code, stderr } = await warmSequencer(['run', '--world', quick, '--json']);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('leave the --json document’s simulated time to the millisecond, as every instant in it', async () => {
    const { stdout } = await withLogs();

    const { stats } = JSON.parse(stdout) as { stats: { simulatedSeconds: number } };
    // Events come a random fraction of a second late: the clock itself is not on a millisecond.
    expect(stats.simulatedSeconds).not.toBe(Math.round(stats.simulatedSeconds));
    expect(String(stats.simulatedSeconds)).toMatch(/^\d+\.\d{1,3}$/);
  });
});

describe("the sequencer's own answer, not a CLI guess", () => {
  it.each([
    ['a name with a space', '{"order":["P 1"]}', 'got "P 1"'],
    ['a name with a newline, shown as a JSON string', '{"order":["P1\\n"]}', 'got "P1\\n"'],
    ['a name given twice', '{"order":["P1","P9","P9"]}', "'P9' appears twice"],
  ])('%s is InvalidInput from decide-order, never "add it to the world"', async (_, input, cause) => {
    // Act
    const { code, stdout, stderr } = await warmSequencer(['run', '--world', quick, '--input', input, '--json']);

    // Assess
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as { status: string; error: string; cause: string };
    expect({ status: report.status, error: report.error }).toEqual({ status: 'FAILED', error: 'InvalidInput' });
    expect(report.cause).toContain(cause);
    expect(stderr).not.toContain('world');
  });

  it('a pipeline the world lacks is named as a JSON string, and --json prints one report with error and cause', async () => {
    // Act
    const { code, stdout, stderr } = await warmSequencer(['run', '--world', quick, '--input', '{"order":["P1","P9"]}', '--json']);

    // Assess
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as { status: string; error: string; cause: string };
    expect(report).toEqual({ status: 'REFUSED', error: 'WorldFileError', cause: expect.stringContaining(`"P9" is in the input order but not in the world file ${quick}`) });
    expect(stderr.trim().split('\n')).toEqual([`sequencer: ${report.cause}`]);
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--continue-at', '5'], '--continue-at must be a whole number of history events from 500 to 24000'],
    [['--input', '{}', '--input', '{}'], '--input is given more than once'],
    [['extra'], "Unexpected argument 'extra'"],
    [['--input-file', '/nonexistent/input.json'], 'cannot read --input-file /nonexistent/input.json: ENOENT'],
  ])('--json with a command line it refuses (%j) still prints one report', async (args, cause) => {
    const { code, stdout } = await warmSequencer(['run', '--json', ...args]);

    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ status: 'REFUSED', error: 'UsageError', cause: expect.stringContaining(cause) });
  });

  it('--json with input that is not JSON still prints one report', async () => {
    const { code, stdout } = await warmSequencer(['run', '--input', '{order', '--json']);

    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ status: 'REFUSED', error: 'UsageError', cause: expect.stringMatching(/^--input is not valid JSON: /) });
  });
});

describe('GitHub Actions mode', () => {
  it.each([
    ['a bad command line', ['run', '--bogus'], 'bad command line'],
    ['a bad world file', ['run', '--world', file('empty.json', { startTime, pipelines: [] })], 'bad world file'],
  ])('%s is an ::error:: annotation in place of its line, and still exit 2', async (_, args, title) => {
    // Act
    const { code, stderr } = await warmSequencer(args, { GITHUB_ACTIONS: 'true' });
    const offGitHub = await warmSequencer(args);

    // Assess: told once in the merged log; a command line's usage hint stays.
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^::error title=sequencer%3A ${title}::\\S`, 'm'));
    expect(stderr).not.toMatch(/^sequencer: /m);
    expect(offGitHub.stderr).toMatch(/^sequencer: /m);
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
    const { code, stdout, stderr } = await warmSequencer(['run', '--world', failing], { GITHUB_ACTIONS: 'true' });

    // Assess
    expect(code).toBe(1);
    expect(`${stdout}${stderr}`.match(/FAILED/g)).toHaveLength(1);
    expect(stdout).toMatch(/^::error title=sequencer%3A PipelineFailed::P1 /m);
  });
});

describe('small things on the command line', () => {
  it('--input-file - reads the input from stdin', async () => {
    const { code, stdout } = await sequencer(['run', '--world', quick, '--input-file', '-', '--json'], {}, '{"order":["P3","P1"]}');

    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { pipelines: { pipelineName: string }[] }).pipelines.map((row) => row.pipelineName)).toEqual(['P3', 'P1']);
  });

  it.each([
    ['a repeated --input', ['run', '--input', '{}', '--input', '{"order":["P1"]}'], '--input is given more than once'],
    ['a repeated --world, once with =', ['run', '--world', quick, '--world=local/worlds/failing.json'], '--world is given more than once'],
    ['a repeated --port', ['emulator', '--world', quick, '--port', '0', '--port', '1'], '--port is given more than once'],
    ['--port -1', ['emulator', '--world', quick, '--port', '-1'], "--port must be a whole number from 0 to 65535, got '-1'"],
  ])('%s is refused with a clear message, exit 2', async (_, args, message) => {
    const { code, stdout, stderr } = await warmSequencer(args);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe(`sequencer: ${message}${message.endsWith("'") ? '' : '; give it once'}`);
  });

  it('top-level help lists help and version among the commands', async () => {
    const { stdout } = await warmSequencer(['help']);

    const commands = stdout.split('Commands:\n')[1]!.split('\n\n')[0]!.split('\n').map((line) => line.trim().split(/\s+/)[0]);
    expect(commands).toEqual(expect.arrayContaining(['run', 'emulator', 'status', 'help', 'version']));
  });

  it('InvalidInput lists the fields a user may write, never the internal AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', quick, '--input', '{"oder":["P1"]}', '--json']);

    expect(code).toBe(3);
    const { error, cause } = JSON.parse(stdout) as { error: string; cause: string };
    expect(error).toBe('InvalidInput');
    expect(cause).toContain('unknown field "oder" (did you mean "order"?); the fields are order, sequence');
    expect(cause).not.toContain('AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID');
  });

  it('a hand-written continuation is refused with the sequencer’s own cause, shown as it is', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', quick, '--input', '{"continuation":{"plan":{},"run":{}}}', '--json']);
    const plain = await warmSequencer(['run', '--world', quick, '--input', '{"continuation":{"plan":{},"run":{}}}']);

    expect(code).toBe(3);
    const { error, cause } = JSON.parse(stdout) as { error: string; cause: string };
    expect(error).toBe('InvalidInput');
    expect(plain.stderr.trim()).toBe(`sequencer: FAILED  InvalidInput: ${cause}`);
  });
});

describe('hints that point the right way', () => {
  it('emulator --run names --run, not --input, when the world lacks a pipeline of the order', async () => {
    const { code, stderr } = await warmSequencer(['emulator', '--world', quick, '--run', '{"order":["P9"]}']);

    expect(code).toBe(2);
    expect(stderr).toContain(`give --run '{"order":[...]}' with the world's pipelines`);
    expect(stderr).not.toContain('--input');
  });

  it('emulator --run suggests a status command that runs as written, in a shell', async () => {
    // Prepare
    const child = spawn('node', ['bin/sequencer.js', 'emulator', '--world', quick, '--run', '{}', '--stage', 'staging', '--port', '0'], { env: cleanEnv({}) });
    try {
      const printed = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('\nready;')) resolve(text);
        });
        child.once('exit', (exitCode) => reject(new Error(`emulator exited with ${exitCode}: ${text}`)));
      });
      const suggested = printed.split('\n').find((line) => line.includes(' status '))!.trim();

      // Act: exactly as printed, with nothing else set up but a shell's region elsewhere.
      const env = cleanEnv({});
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_REGION']) delete env[name];
      env.AWS_REGION = 'eu-west-1';
      const result = await new Promise<Result>((resolve) => {
        exec(suggested, { env }, (error, stdout, stderr) => resolve({ code: exitCode(error), stdout, stderr }));
      });

      // Assess
      expect(suggested).toMatch(/^AWS_ENDPOINT_URL_SFN=http:\/\/127\.0\.0\.1:\d+ npx --no sequencer status --stage staging --region us-east-1$/);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toContain('codepipeline-sequencer · status · local-001 · arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-staging');
      expect(result.stdout).toMatch(/^SUCCEEDED {2}3 pipelines succeeded/m);

      // status --json of that run: a run on AWS has no emulated world and no simulated time.
      const json = await new Promise<Result>((resolve) => {
        exec(`${suggested} --json`, { env }, (error, stdout, stderr) => resolve({ code: exitCode(error), stdout, stderr }));
      });
      const report = JSON.parse(json.stdout) as Record<string, unknown> & { stats: Record<string, unknown> };
      expect(report.status).toBe('SUCCEEDED');
      expect(Object.keys(report)).not.toContain('world');
      expect(Object.keys(report.stats)).not.toContain('simulatedSeconds');
      expect(report.stats.elapsedSeconds).toEqual(expect.any(Number));
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('local stages behave like deploy', () => {
  const withP4 = file('with-p4.json', {
    startTime,
    pipelines: ['P1', 'P2', 'P3', 'P4'].map((name) => ({ name, durationSeconds: 120 })),
  });
  const emulatorHelp = once(() => warmSequencer(['emulator', '--help']));

  it('run --stage staging (no params of its own) runs on the default params, as sls deploy --stage staging would', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', quick, '--stage', 'staging', '--json']);

    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { pipelines: { pipelineName: string }[] }).pipelines.map((row) => row.pipelineName)).toEqual(['P1', 'P2', 'P3']);
  });

  it('run --stage staging allows only the default params’ pipelines', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', withP4, '--stage', 'staging', '--input', '{"order":["P4"]}', '--json']);

    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'FAILED', error: 'PipelineNotAllowed' });
  });

  it('a stage name sls would refuse is refused before anything runs', async () => {
    const { code, stderr } = await warmSequencer(['run', '--stage', 'qa/1']);

    expect(code).toBe(2);
    expect(stderr).toContain("--stage 'qa/1' is not a stage name sls accepts");
  });

  it('a stage name too long for the Lambda functions it deploys is refused as sls package refuses it; one that fits runs', async () => {
    // 27 characters is the most `codepipeline-sequencer-<stage>-startPipeline` leaves of Lambda's 64.
    const fits = 'a'.repeat(27);

    const tooLong = await warmSequencer(['run', '--stage', `${fits}b`]);
    const tooLongServed = await warmSequencer(['emulator', '--world', quick, '--stage', `${fits}b`]);
    const fitting = await warmSequencer(['run', '--stage', fits, '--json']);

    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain(
      `--stage '${fits}b' cannot be packaged: the Lambda function name 'codepipeline-sequencer-${fits}b-startPipeline' has 65 characters; AWS allows 64 (a stage name of at most 27 characters fits)`,
    );
    expect([tooLongServed.code, tooLongServed.stderr.split('\n')[0]]).toEqual([2, tooLong.stderr.split('\n')[0]]);
    expect([fitting.code, JSON.parse(fitting.stdout).status]).toEqual([0, 'SUCCEEDED']);
  });

  it.each([
    ['without --stage, every pipeline of the world', [], 'SUCCEEDED', undefined],
    ['with --stage staging, only the default params’ pipelines', ['--stage', 'staging'], 'FAILED', /^ {2}FAILED {2}PipelineNotAllowed: order: P4 is not allowed in this stage/],
  ])('emulator --run uses the params its help says, and says why its run failed: %s', async (_, stageArgs, status, why) => {
    // Prepare
    const { stdout: help } = await emulatorHelp();
    const child = spawn('node', ['bin/sequencer.js', 'emulator', '--world', withP4, '--run', '{"order":["P4"]}', ...stageArgs, '--port', '0'], { env: cleanEnv({}) });
    try {
      // Act
      const [ran, next] = await new Promise<[string, string]>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const found = /^Ran \S+ in simulated time: (\w+).*\n(.*)\n/m.exec(text);
          if (found) resolve([found[1]!, found[2]!]);
        });
        child.once('exit', (exitCode) => reject(new Error(`emulator exited with ${exitCode}: ${text}`)));
      });

      // Assess
      expect(ran).toBe(status);
      if (why === undefined) expect(next).toMatch(/^State machine /);
      else expect(next).toMatch(why);
      expect(help.replace(/\s+/g, ' ')).toContain('without --stage the run uses the default params and every pipeline of the world');
      expect(help.replace(/\s+/g, ' ')).toContain("a stage without params of its own gets the default ones, as 'sls deploy' would");
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('tables fit the terminal', () => {
  it('COLUMNS=80: every line of the summary table fits, and the reason is still there', async () => {
    // Prepare
    const failing = file('failing-80.json', {
      startTime,
      pipelines: [
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'Integration tests failed in the eu-west-1 canary stage' },
        { name: 'P3', durationSeconds: 300 },
      ],
    });

    // Act
    const narrow = await warmSequencer(['run', '--world', failing], { COLUMNS: '80' });
    const wide = await warmSequencer(['run', '--world', failing]);

    // Assess
    const tableOf = (stdout: string) => {
      const printed = stdout.split('\n');
      const header = printed.findIndex((line) => line.startsWith('#  pipeline'));
      return printed.slice(header, printed.indexOf('', header));
    };
    expect(narrow.code).toBe(1);
    for (const line of tableOf(narrow.stdout)) expect(line.length).toBeLessThanOrEqual(80);
    expect(tableOf(narrow.stdout).join(' ')).toContain('PipelineFailed: Integration tests failed in the eu-west-1');
    expect(Math.max(...tableOf(wide.stdout).map((line) => line.length))).toBeGreaterThan(80);
  });
});

describe('the time column', () => {
  it('stays aligned past 10 days, in the progress lines and the table', async () => {
    // Prepare
    const long = file('long.json', {
      startTime,
      pipelines: [
        { name: 'P1', durationSeconds: 3600 },
        { name: 'P2', durationSeconds: 11 * 86_400 },
        { name: 'P3', durationSeconds: 600 },
      ],
    });

    // Act
    const { code, stdout } = await warmSequencer(['run', '--world', long, '--input', '{"pipelineTimeoutSeconds":1209600}']);

    // Assess
    expect(code).toBe(0);
    const progress = stdout.split('\n').filter((line) => /^ *\+\d+(d \d\d|):\d\d:\d\d {2}\S/.test(line));
    expect(progress.some((line) => line.includes('+11d '))).toBe(true);
    expect(new Set(progress.map((line) => /^ *\+\S+(?: \S+)? {2}/.exec(line)![0].length)).size).toBe(1);
    const table = stdout.split('\n').filter((line) => /^(#|\d) {2}/.test(line));
    const finished = table[0]!.indexOf('finished');
    expect(table.slice(1).map((line) => line.slice(finished, finished + 1))).toEqual(['+', '+', '+']);
  });
});
