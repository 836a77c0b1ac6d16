import { execFile, execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { copyOfService, slsRefusal } from '../support/sls.js';
import { cleanEnv, exitCode, once, scratchFiles, sequencer, warmSequencer } from './binary.js';

/**
 * The command line as a platform engineer and a CI job meet it, judged by its exit code and what
 * it prints. No failure may show a stack trace or the whole usage. What the process itself does
 * (signals, pipes, what a start loads, the Node-20 handover) runs the real binary (`sequencer`,
 * spawn); the rest runs its main() in a process kept warm (warmSequencer).
 */


const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const stackFrame = /^\s+at /m;

/** A copy of the service (with the command line) whose serverless.yml is `edit`ed: a stage param set wrong. */
function serviceWith(edit: (yaml: string) => string): string {
  const service = copyOfService('.', ['bin', 'local']);
  const config = join(service, 'serverless.yml');
  writeFileSync(config, edit(readFileSync(config, 'utf8')));
  return service;
}

/** `sequencer ARGS` run from that copy, so that it reads the copy's serverless.yml. */
const sequencerIn = (service: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [join(service, 'bin/sequencer.js'), ...args], { cwd: service, env: cleanEnv() }, (error, stdout, stderr) => resolve({ code: exitCode(error), stdout, stderr }));
  });

const file = scratchFiles('sequencer-robust-');
const startTime = '2026-01-01T00:00:00Z';
const failing = file('failing.json', {
  startTime,
  pipelines: [
    { name: 'P1', durationSeconds: 300 },
    { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'Integration tests failed' },
    { name: 'P3', durationSeconds: 300 },
  ],
});

/** The Node the project brings (24), run directly: no wrapper hands over. */
const projectNode = 'node_modules/node/bin/node';
const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('help and version', () => {
  it.each([
    [['--help'], 'Usage: sequencer <command>'],
    [['help'], 'Usage: sequencer <command>'],
    [['run', '--help'], 'Usage: sequencer run [--input JSON | --input-file FILE] [--order P1,P2] [--sequence NAME] [--from P] [--dry-run] [--world FILE] [--stage NAME] [--redrive] [--json] [--timestamps] [--completion MODE] [--continue-at N]'],
    [['help', 'run'], 'Usage: sequencer run '],
    [['emulator', '--help'], 'Usage: sequencer emulator --world FILE [--stage NAME] [--run INPUT] [--speed N] [--port N]'],
    [['emulator', '-h'], 'Usage: sequencer emulator --world FILE [--stage NAME] [--run INPUT] [--speed N] [--port N]'],
    [['status', '--help'], 'Usage: sequencer status [--stage NAME] [--execution NAME|ARN] [--json]'],
  ])('%j prints its usage and exits 0', async (args, firstLine) => {
    const { code, stdout, stderr } = await warmSequencer(args);

    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toContain(firstLine);
    expect(stderr).toBe('');
  });

  it('run --help documents every option it accepts', async () => {
    const { stdout } = await warmSequencer(['run', '--help']);

    for (const option of ['--input JSON', '--input-file FILE', '--world FILE', '--stage NAME', '--json', '--timestamps', 'NO_COLOR', 'GITHUB_ACTIONS', 'SEQUENCER_LOG_LEVEL']) {
      expect(stdout).toContain(option);
    }
  });

  it.each([['--version'], ['-V'], ['version']])('%s prints the version from package.json', async (flag) => {
    const { code, stdout } = await warmSequencer([flag]);

    expect(code).toBe(0);
    expect(stdout).toBe(`sequencer ${packageVersion}\n`);
  });

  it('a Node told not to run TypeScript says so in one line, exit 2, rather than hand over to itself for ever', async () => {
    // The wrapper hands over to the project's Node when the one it runs on cannot strip types;
    // when that is the project's Node itself, there is nobody left to hand over to.
    const { code, stdout, stderr } = await sequencer(['run'], { NODE_OPTIONS: '--no-strip-types' }, undefined, projectNode);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(lines(stderr)).toEqual([
      `sequencer: this Node (${execFileSync(projectNode, ['--version']).toString().trim()}) was told not to run TypeScript (--no-strip-types in NODE_OPTIONS?); the sequencer is TypeScript run as it is.`,
    ]);
  });

  it('help, version and an unknown command load no package: they answer before any schema or SDK loads', async () => {
    const loadedModules = file(
      'loaded-modules.mjs',
      `import { registerHooks } from 'node:module';
const packages = new Set();
registerHooks({ load(url, context, nextLoad) { const name = /node_modules\\/((@[^/]+\\/)?[^/]+)\\//.exec(url)?.[1]; if (name) packages.add(name); return nextLoad(url, context); } });
process.on('exit', () => process.stderr.write('packages: ' + JSON.stringify([...packages]) + '\\n'));
`,
    );
    const packagesLoadedBy = async (args: string[]) => {
      const { stderr } = await sequencer(args, { NODE_OPTIONS: `--import=${loadedModules}` }, undefined, projectNode);
      return JSON.parse(/^packages: (.*)$/m.exec(stderr)![1]!) as string[];
    };

    expect(await packagesLoadedBy(['version'])).toEqual([]);
    expect(await packagesLoadedBy(['help', 'start'])).toEqual([]);
    expect(await packagesLoadedBy(['runn', '--world', 'x.json'])).toEqual([]);
    // The hook sees what a command loads: a run loads zod for its input schema.
    expect(await packagesLoadedBy(['run', '--world', 'local/worlds/demo.json'])).toContain('zod');
  });

  it('status with nothing listening at its endpoint says so in one line, exit 2', async () => {
    const { code, stdout, stderr } = await warmSequencer(['status', '--stage', 'dev'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' });

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(lines(stderr)).toEqual(['sequencer: cannot reach http://127.0.0.1:1 (ECONNREFUSED); is the emulator (or the network) up?']);
  });
});

describe('a command-line error: one line and a hint, never the usage', () => {
  it.each([
    // Through npx, `sequencer --help` is npx's own help: the hint names the command that works.
    [[], "Run 'sequencer help' for usage."],
    [['launch'], "Run 'sequencer help' for usage."],
    [['run', '--bogus'], "Run 'sequencer run --help' for usage."],
    [['run', '--input', '{}', '--input-file', 'x.json'], "Run 'sequencer run --help' for usage."],
    [['emulator'], "Run 'sequencer emulator --help' for usage."],
    [['emulator', '--world', 'local/worlds/demo.json', '--port', 'http'], "Run 'sequencer emulator --help' for usage."],
  ])('%j exits 2', async (args, hint) => {
    const { code, stdout, stderr } = await warmSequencer(args);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    const [message, ...rest] = lines(stderr);
    expect(message).toMatch(/^sequencer: \S/);
    expect(rest).toEqual([hint]);
  });
});

describe('a world or run that cannot be: one line, exit 2, no stack trace', () => {
  const many = Array.from({ length: 501 }, (_, index) => ({ name: `Q${index}`, durationSeconds: 60 }));

  it.each([
    ['an empty world', ['--world', file('empty.json', { startTime, pipelines: [] })], '"pipelines" is empty'],
    ['--stage filtering every pipeline out', ['--world', file('other.json', { startTime, pipelines: [{ name: 'X1', durationSeconds: 60 }] }), '--stage', 'prod'], '--stage prod allows none of the pipelines in'],
    ['a 501-pipeline world', ['--world', file('many.json', { startTime, pipelines: many })], 'its 501 pipelines do not fit a stage: pipelines: must have at most 500 items'],
    ['a world with several problems', ['--world', file('bad.json', { startTime, pipelines: [{ name: 'P1', durationSecs: 1 }] })], 'is not a valid world file: pipelines[0].durationSecs: unknown field; pipelines[0].durationSeconds: required unless stages are given'],
    ['a world file that is not JSON', ['--world', file('broken.json', '{ "startTime": ')], 'not valid JSON'],
  ])('%s', async (_, args, message) => {
    const { code, stdout, stderr } = await warmSequencer(['run', ...args]);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(stackFrame);
  });

  it('a world file and an input file saved as "UTF-8 with BOM" (as some editors save JSON) are read as the JSON they hold', async () => {
    // Prepare
    const bom = '\uFEFF';
    const world = file('bom-world.json', `${bom}${JSON.stringify({ startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }] })}`);
    const input = file('bom-input.json', `${bom}{"order":["P1"]}`);

    // Act
    const { code, stderr } = await warmSequencer(['run', '--world', world, '--input-file', input]);

    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('a stage param serverless.yml sets wrong is named as sls package names it: the stage’s own, or the default', async () => {
    // Prepare: a copy of the service whose dev stage sets onFailure: retry, and whose defaults a sweep every 90 s
    // and a longest poll of 10 s, under default's pollSeconds (30) and dev's (15): a rule between two params, checked beside the others.
    const service = serviceWith((yaml) =>
      yaml.replace(/^ {4}sweepSeconds: 60$/m, '    sweepSeconds: 90').replace(/^ {4}maxPollSeconds: 600$/m, '    maxPollSeconds: 10').replace(/^ {2}dev:$/m, '  dev:\n    onFailure: retry'),
    );
    const sweepRule = 'is 90: must be a multiple of 60 from 60 to 3600: the sweeper runs on a rate in whole minutes';
    const maxPollRule = 'params.default.maxPollSeconds is 10: must be at least pollSeconds';

    // Act
    const inDev = await sequencerIn(service, ['run', '--stage', 'dev']);
    const byDefault = await sequencerIn(service, ['run', '--json']);
    const packaged = await slsRefusal('dev', { cwd: service });
    rmSync(service, { recursive: true, force: true });

    // Assess: never the world file's fault, nor --stage's; and the very lines sls package prints.
    expect(inDev.code).toBe(2);
    expect(lines(inDev.stderr)).toEqual([
      `sequencer: serverless.yml: params.dev.onFailure is "retry": must be 'fail' or 'wait'; params.default.sweepSeconds ${sweepRule}; ${maxPollRule} (15, from params.dev)`,
    ]);
    expect(packaged.split('\n').filter((line) => line.startsWith('- params.'))).toEqual([
      `- params.dev.onFailure is "retry": must be 'fail' or 'wait'`,
      `- params.default.sweepSeconds ${sweepRule}`,
      `- ${maxPollRule} (15, from params.dev)`,
    ]);
    expect(byDefault.code).toBe(2);
    expect(JSON.parse(byDefault.stdout)).toEqual({
      status: 'REFUSED',
      error: 'StageParamsError',
      cause: `serverless.yml: params.default.sweepSeconds ${sweepRule}; ${maxPollRule} (30, from params.default)`,
    });
  });

  it('run and emulator --stage refuse with every problem sls package names in the stage’s params, a misspelt one among them', async () => {
    // Prepare: dev misspells pollSeconds (which alone used to run, polling every 30 s), sets it to 0 besides, and a schedule Scheduler refuses.
    const service = serviceWith((yaml) => yaml.replace(/^ {4}pollSeconds: 15$/m, '    pollSecnds: 15\n    pollSeconds: 0\n    scheduleRate: every day'));

    // Act
    const ran = await sequencerIn(service, ['run', '--stage', 'dev', '--completion', 'poll']);
    const served = await sequencerIn(service, ['emulator', '--world', 'local/worlds/demo.json', '--stage', 'dev', '--port', '0']);
    const packaged = await slsRefusal('dev', { cwd: service });
    rmSync(service, { recursive: true, force: true });

    // Assess: the lines sls package prints, one line in all, exit 2, nothing served.
    const packageProblems = packaged.split('\n').flatMap((line) => (/^- params\./.test(line) ? [line.slice(2)] : []));
    expect(packageProblems).toEqual([expect.stringContaining('params.dev.pollSecnds is not a param (did you mean pollSeconds?)'), 'params.dev.pollSeconds is 0: must be at least 1', expect.stringContaining('params.dev.scheduleRate is "every day"')]);
    for (const refused of [ran, served]) {
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(lines(refused.stderr)).toEqual([`sequencer: serverless.yml: ${packageProblems.join('; ')}`]);
    }
  });

  it('a Serverless variable in a param the run does not need is left to sls; in one it needs, it is named', async () => {
    // Prepare: dev takes its topic and schedule switch from SSM and the environment, as sls package allows.
    const fromDeploy = serviceWith((yaml) => yaml.replace(/^ {2}dev:$/m, "  dev:\n    notificationTopicArn: ${ssm:/org/topic}\n    scheduleEnabled: ${env:SCHEDULE, false}"));
    const pollFromEnv = serviceWith((yaml) => yaml.replace(/^ {4}pollSeconds: 15$/m, "    pollSeconds: ${env:POLL, 15}"));

    // Act
    const ran = await sequencerIn(fromDeploy, ['run', '--stage', 'dev']);
    const refused = await sequencerIn(pollFromEnv, ['run', '--stage', 'dev']);
    rmSync(fromDeploy, { recursive: true, force: true });
    rmSync(pollFromEnv, { recursive: true, force: true });

    // Assess
    expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ran.stdout).toContain('SUCCEEDED');
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)).toEqual([
      'sequencer: serverless.yml: params.dev.pollSeconds is "${env:POLL, 15}": a Serverless variable, which sls resolves at deploy time; a local run needs the value itself',
    ]);
  });

  it('--json keeps the exit code and the line, and stdout is one JSON report naming the error and cause', async () => {
    const { code, stdout, stderr } = await warmSequencer(['run', '--world', file('empty-too.json', { startTime, pipelines: [] }), '--json']);

    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ status: 'REFUSED', error: 'WorldFileError', cause: expect.stringContaining('"pipelines" is empty') });
    expect(lines(stderr)).toHaveLength(1);
  });

  it('--completion picks how ends are noticed for one run, in place of the stage param, and refuses any other value', async () => {
    // Prepare
    const world = file('one.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 600 }] });

    // Act
    const byEvents = await warmSequencer(['run', '--world', world, '--input', '{"order":["P1"]}', '--json']);
    const byPolling = await warmSequencer(['run', '--world', world, '--input', '{"order":["P1"]}', '--completion', 'poll', '--json']);
    const refused = await warmSequencer(['run', '--world', world, '--completion', 'webhook']);

    // Assess
    const detected = (stdout: string) =>
      (JSON.parse(stdout) as { pipelines: { detectedBy?: string; detectionSeconds?: number }[] }).pipelines.map(({ detectedBy, detectionSeconds }) => ({ detectedBy, detectionSeconds }));
    // The event within its simulated delivery delay (0.5 to 1.5 s); the poll at its next look, tens of seconds late.
    expect(detected(byEvents.stdout)).toEqual([{ detectedBy: 'event', detectionSeconds: expect.any(Number) }]);
    expect(detected(byEvents.stdout)[0]!.detectionSeconds).toBeLessThanOrEqual(2);
    expect(detected(byPolling.stdout)).toEqual([{ detectedBy: 'poll', detectionSeconds: expect.any(Number) }]);
    expect(detected(byPolling.stdout)[0]!.detectionSeconds).toBeGreaterThan(2);
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)).toEqual(['sequencer: --completion must be events or poll, got "webhook"', "Run 'sequencer run --help' for usage."]);
  });

  it('--continue-at hands a polled run over once one more step would reach that many history events, each execution ending a few past it, and refuses a number outside 500 to 24,000', async () => {
    // Prepare: two days of looks are some 2,800 history events.
    const world = file('two-days.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 2 * 86_400 }] });

    // Act
    const atDefault = await warmSequencer(['run', '--world', world, '--input', '{"order":["P1"]}', '--completion', 'poll', '--json']);
    const handedOver = await warmSequencer(['run', '--world', world, '--input', '{"order":["P1"]}', '--completion', 'poll', '--continue-at', '1000', '--json']);
    const refused = await warmSequencer(['run', '--world', world, '--continue-at', '499']);

    // Assess
    const executions = (stdout: string) => (JSON.parse(stdout) as { stats: { executions: number } }).stats.executions;
    expect(executions(atDefault.stdout)).toBe(1);
    expect(handedOver.code).toBe(0);
    expect(executions(handedOver.stdout)).toBeGreaterThan(1);
    // The hand-over's own events (its Task, the execution's end) come after the step that would have reached 1,000.
    const handedOverAt = (JSON.parse(handedOver.stdout) as { generations: { historyEvents: number }[] }).generations.slice(0, -1).map((generation) => generation.historyEvents);
    for (const events of handedOverAt) expect(events).toBeGreaterThan(1000);
    for (const events of handedOverAt) expect(events).toBeLessThanOrEqual(1010);
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)[0]).toBe("sequencer: --continue-at must be a whole number of history events from 500 to 24000, got '499'");
  });

  it('a pipeline in the order that the world file lacks is named, with the file', async () => {
    const world = file('two.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }, { name: 'P2', durationSeconds: 60 }] });

    const byDefault = await warmSequencer(['run', '--world', world]);
    const byInput = await warmSequencer(['run', '--world', world, '--input', '{"order":["P2","P9","P1"]}']);

    expect(byDefault.code).toBe(2);
    expect(lines(byDefault.stderr)).toEqual([
      `sequencer: "P3" is in the default sequence 'release' ("P1", "P2", "P3") but not in the world file ${world}, which has "P1", "P2"; add it to the world, or give --input '{"order":[...]}' with the world's pipelines`,
    ]);
    expect(byInput.code).toBe(2);
    expect(byInput.stderr).toContain(`"P9" is in the input order but not in the world file ${world}`);
    expect(byDefault.stderr + byInput.stderr).not.toContain('not allowed in this stage');
  });

  it('with --stage, a pipeline in the order that neither the stage allows nor the world has is named as both, in one line', async () => {
    // Act: P9 is in neither; P3 is allowed by dev but not in this world.
    const neither = await warmSequencer(['run', '--stage', 'dev', '--input', '{"order":["P1","P9"]}']);
    const worldOnly = await warmSequencer(['run', '--stage', 'dev', '--world', file('p1.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }] }), '--input', '{"order":["P1","P3"]}']);

    // Assess
    expect(neither.code).toBe(2);
    expect(lines(neither.stderr)).toEqual([
      `sequencer: "P9" is in the input order but neither allowed by --stage dev ("P1", "P2", "P3": its pipelines param in serverless.yml) nor in the world file local/worlds/demo.json, which has "P1", "P2", "P3"; add it to both, or give --input '{"order":[...]}' with pipelines both have`,
    ]);
    expect(worldOnly.code).toBe(2);
    expect(worldOnly.stderr).toContain('"P3" is in the input order but not in the world file');
  });

  it('a pipeline the world has but the stage does not allow is still the stage’s refusal, naming what the stage allows', async () => {
    // The world lacks P2 and P3: the refusal names them all the same, as the deployed stage would.
    const world = file('extra.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }, { name: 'X1', durationSeconds: 60 }] });

    const { code, stdout } = await warmSequencer(['run', '--world', world, '--stage', 'prod', '--input', '{"order":["P1","X1"]}', '--json']);

    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'FAILED', error: 'PipelineNotAllowed', cause: 'order: X1 is not allowed in this stage; allowed: P1, P2, P3' });
  });
});

/** `{"a":{"a":...}}`, 4,000 objects deep, the text a user would pass. */
const deepInput = file('deep.json', `${'{"a":'.repeat(4000)}1${'}'.repeat(4000)}`);

describe('a 4,000-level nested input', () => {
  it('is refused as InvalidInput by decide-order, naming the limit, and the run ends (it used to hang)', async () => {
    const { code, stdout, stderr } = await warmSequencer(['run', '--input-file', deepInput, '--json']);

    expect(code).toBe(3);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ status: 'FAILED', error: 'InvalidInput', cause: 'input: objects and arrays nested more than 32 levels deep; at most 32 are accepted' });
    expect(report.world.executions).toEqual([]);
    expect(stderr).not.toMatch(stackFrame);
  });

  it('reads "1 state transition" for a run refused at the first Task', async () => {
    const { stdout } = await warmSequencer(['run', '--input-file', deepInput]);

    expect(stdout).toContain('(1 state transition, 6 history events, 1 Lambda invocation)');
  });

  it('100,000 levels deep: run and start refuse it by name too, never overflowing the stack', async () => {
    const deeper = file('deeper.json', `{"order":["P1"],"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);

    const ran = await warmSequencer(['run', '--input-file', deeper]);
    const started = await warmSequencer(['start', '--input-file', deeper], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' });

    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('sequencer: FAILED  InvalidInput: input: objects and arrays nested more than 32 levels deep');
    expect(started.code).toBe(2);
    expect(started.stderr.split('\n')[0]).toBe('sequencer: InvalidInput: x: objects and arrays nested more than 32 levels deep; at most 32 are accepted; nothing was started');
  });
});

describe("a run's start: what one process worked out, the next does not redo", () => {
  // Which packages a process loaded, written to stderr as it exits (the CommonJS ones: yaml,
  // asl-validator and the SDK's Lambda client all are). A package's name is its path's last
  // node_modules/NAME: the interpreter has an asl-validator of its own, nested in its folder.
  // Node's TypeScript stripper (amaro, a built-in) is listed when it started: it does only for
  // TypeScript its compile cache does not hold stripped. So is undici, Node's fetch, when loaded.
  const loadedPackages = file(
    'loaded-packages.mjs',
    `import { createRequire } from 'node:module';
const loaded = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const names = new Set(Object.keys(loaded).flatMap((path) => /.*node_modules\\/((@[^/]+\\/)?[^/]+)\\/(?!package\\.json$)/.exec(path)?.[1] ?? []));
  if (process.moduleLoadList.some((name) => name.includes('amaro'))) names.add('(type stripper)');
  if (process.moduleLoadList.some((name) => name.includes('undici'))) names.add('(undici)');
  process.stderr.write('loaded: ' + JSON.stringify([...names]) + '\\n');
});
`,
  );
  // The project's Node runs the sequencer itself, with no wrapper to load the --import scripts too.
  // An empty temporary directory: nothing remembered from earlier processes (removed afterwards).
  const temporaryDirectories: string[] = [];
  const freshTemporaryDirectory = () => {
    temporaryDirectories.push(mkdtempSync(join(tmpdir(), 'sequencer-start-')));
    return temporaryDirectories.at(-1)!;
  };
  const loadedBy = async (temporaryDirectory: string) => {
    const { code, stderr } = await sequencer(['run'], { TMPDIR: temporaryDirectory, NODE_OPTIONS: `--import=${loadedPackages}` }, undefined, projectNode);
    expect(code).toBe(0);
    return JSON.parse(/^loaded: (.*)$/m.exec(stderr)![1]!) as string[];
  };

  it('the first run parses the YAML, checks the definition and keeps where it found each package; a second loads neither parser nor validator, nor the unused Lambda client, and evaluates paths through the stand-in', async () => {
    const temporaryDirectory = freshTemporaryDirectory();

    const first = await loadedBy(temporaryDirectory);
    const second = await loadedBy(temporaryDirectory);

    expect(first).toEqual(expect.arrayContaining(['yaml', 'asl-validator']));
    expect([first, second].flat().filter((name) => name === '@aws-sdk/client-lambda')).toEqual([]);
    expect(second.filter((name) => ['yaml', 'asl-validator'].includes(name))).toEqual([]);
    expect(second).toEqual(expect.arrayContaining(['dynalite']));
    // The interpreter evaluates its paths through its stand-in (local/interpreter-imports/), which
    // loads jsonpath-plus's CommonJS build: nothing else in a run loads it once asl-validator is
    // remembered, and the interpreter's own import would load the ES module build.
    expect(second).toContain('jsonpath-plus');
    // The TypeScript is stripped once, then read stripped from Node's compile cache, which is in
    // the user's own directory (local/own-directory.mjs), not the shared one Node would pick.
    expect(first).toContain('(type stripper)');
    expect(second).not.toContain('(type stripper)');
    expect(readdirSync(join(temporaryDirectory, `codepipeline-sequencer-${process.getuid!()}`, 'compile-cache'))).not.toEqual([]);
    expect(existsSync(join(temporaryDirectory, 'node-compile-cache'))).toBe(false);
    // Where each package was found is kept beside it, in one file (local/resolutions.mjs).
    expect(readdirSync(join(temporaryDirectory, `codepipeline-sequencer-${process.getuid!()}`, 'resolutions'))).toHaveLength(1);
    // Nothing in a run fetches: an ES module's import of node:http (@middy/util's) must not load
    // undici (local/node-http.ts).
    expect([first, second].flat()).not.toContain('(undici)');
  });

  it('a definition check that throws unexpectedly: one line, exit 2, and the process ends with its emulator (it used to hang)', async () => {
    // The validator, loaded to check the definition in a fresh temporary directory, throws.
    const sabotage = file(
      'sabotage.mjs',
      `import { registerHooks } from 'node:module';
registerHooks({
  load(url, context, nextLoad) {
    if (!url.endsWith('/asl-validator/dist/src/validator.js')) return nextLoad(url, context);
    return { format: 'commonjs', source: 'module.exports = () => { throw new TypeError("validator sabotaged"); };', shortCircuit: true };
  },
});
`,
    );
    // 141 KB on stderr first (a DEBUG log, say), more than a pipe holds, for a reader that lags:
    // the rest goes out asynchronously, and the error line must still come after it.
    const logged = file('logged.mjs', `process.stderr.write('x'.repeat(141_000) + '\\n');\n`);

    const { stdout: seen } = await new Promise<{ stdout: string }>((resolve) => {
      execFile(
        'sh',
        ['-c', `{ ${projectNode} bin/sequencer.js run 2>&1 >/dev/null; echo "exit $?"; } | (sleep 1; cat)`],
        { env: cleanEnv({ TMPDIR: freshTemporaryDirectory(), NODE_OPTIONS: `--import=${sabotage} --import=${logged}` }), maxBuffer: 1 << 20 },
        (_error, stdout) => resolve({ stdout }),
      );
    });

    expect(seen.length).toBe(141_001 + 'sequencer: unexpected TypeError: validator sabotaged\nexit 2\n'.length);
    expect(seen.endsWith('x\nsequencer: unexpected TypeError: validator sabotaged\nexit 2\n')).toBe(true);
  });

  afterAll(() => {
    for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
  });
});

describe('output for people and for CI', () => {
  const plainRun = once(() => warmSequencer(['run', '--world', failing]));

  it('is plain off a terminal, coloured with FORCE_COLOR, and never coloured with NO_COLOR', async () => {
    const plain = await plainRun();
    const forced = await warmSequencer(['run', '--world', failing], { FORCE_COLOR: '1' });
    const refused = await warmSequencer(['run', '--world', failing], { FORCE_COLOR: '1', NO_COLOR: '1' });

    expect(plain.stdout).not.toContain('\u001b[');
    expect(forced.stdout).toContain('\u001b[31mFailed\u001b[0m');
    expect(refused.stdout).not.toContain('\u001b[');
  });

  it('puts the failure line on stderr too, alone', async () => {
    const { code, stdout, stderr } = await plainRun();

    expect(code).toBe(1);
    expect(stdout).toContain('FAILED  PipelineFailed: P2 (position 2 of 3)');
    expect(lines(stderr)).toEqual([expect.stringMatching(/^sequencer: FAILED {2}PipelineFailed: P2 \(position 2 of 3\) .*Integration tests failed/)]);
  });

  it('on GitHub Actions, groups the progress and turns a failure into an ::error:: annotation', async () => {
    const { code, stdout, stderr } = await warmSequencer(['run', '--world', failing], { GITHUB_ACTIONS: 'true' });

    expect(code).toBe(1);
    const printed = lines(stdout);
    expect(printed[0]).toMatch(/^::group::codepipeline-sequencer · local run · world /);
    const end = printed.indexOf('::endgroup::');
    expect(printed.slice(1, end).some((line) => line.includes('P2 Failed after 5 min'))).toBe(true);
    expect(printed.slice(end).some((line) => /^#\s+pipeline/.test(line))).toBe(true);
    expect(printed.at(-1)).toMatch(/^::error title=sequencer%3A PipelineFailed::P2 \(position 2 of 3\) execution [0-9a-f-]+ ended Failed: Integration tests failed/);
    expect(stderr).toBe('');
  });

  it('on GitHub Actions with --json, keeps stdout one JSON document and tells the failure once on stderr, as the annotation', async () => {
    const { code, stdout, stderr } = await warmSequencer(['run', '--world', failing, '--json'], { GITHUB_ACTIONS: 'true' });

    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(lines(stderr)).toEqual([expect.stringMatching(/^::error title=sequencer%3A PipelineFailed::P2 \(position 2 of 3\) .*Integration tests failed/)]);
  });

  it('--timestamps shows absolute UTC times in the progress and the table', async () => {
    const { stdout } = await warmSequencer(['run', '--world', failing, '--timestamps']);

    expect(stdout).toContain("2026-01-01T00:00:00Z  order decided: P1 → P2 → P3 (the default sequence 'release')");
    expect(stdout).toMatch(/^1 {2}P1 +Succeeded +2026-01-01T00:00:00Z +2026-01-01T00:05:00Z +5 min /m);
    expect(stdout).not.toMatch(/\+0:0\d:\d\d/);
  });

  it('names the error, the attempt and the backoff of each retry', async () => {
    const world = file('throttled.json', {
      startTime,
      pipelines: [{ name: 'P1', durationSeconds: 120 }],
      // 4 failed SDK attempts make one AwsUnavailable: two of them, then success. A 5xx, not
      // throttling, so the SDK's own backoff (in wall time) stays short.
      faults: [{ operation: 'GetPipelineExecution', error: 'InternalFailure', httpStatus: 500, count: 8 }],
    });

    const { code, stdout } = await warmSequencer(['run', '--world', world, '--input', '{"order":["P1"]}']);

    expect(code).toBe(0);
    expect(stdout).toContain('CheckPipelines failed with AwsUnavailable; retrying (attempt 2 of 6, backoff up to 5 s with full jitter)');
    expect(stdout).toContain('CheckPipelines failed with AwsUnavailable; retrying (attempt 3 of 6, backoff up to 10 s with full jitter)');
  });
});

/** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
const waitForLine = (child: ChildProcessWithoutNullStreams, pattern: RegExp) =>
  new Promise<RegExpExecArray>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = pattern.exec(seen);
      if (found) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${seen}`)));
  });

const collect = (child: ChildProcessWithoutNullStreams) => {
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { output, exited };
};

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

/**
 * The wrapper hands over to the project's Node when the `node` it runs on is older than 22: run
 * it on the oldest `node` outside node_modules on the PATH (Node 20 on the CI image), so the
 * hand-over is what is tested there; with no older Node, the same promises hold in one process.
 */
function oldestNode(): string {
  oldest ??= findOldestNode();
  return oldest;
}
// Found once, each candidate started once to tell its version: a Node process costs a tenth of a second of CPU.
let oldest: string | undefined;
function findOldestNode(): string {
  const candidates = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => entry !== '' && !entry.includes('node_modules'))
    .map((entry) => join(entry, 'node'))
    .filter((path) => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const major = (path: string) => Number(execFileSync(path, ['-p', 'process.versions.node.split(".")[0]']).toString().trim());
  const byVersion = [...candidates, process.execPath].map((path) => ({ path, major: major(path) })).sort((a, b) => a.major - b.major);
  return byVersion[0]!.path;
}

describe('the tests themselves', () => {
  it('read a command that a signal ended as a shell does (128 + its number), never as an exit 0', async () => {
    const killsItself = file('kills-itself.mjs', "process.kill(process.pid, 'SIGKILL');\n");

    const { code } = await sequencer(['--version'], { NODE_OPTIONS: `--import=${killsItself}` });

    expect(code).toBe(137);
  });

  it('refuse in one line a Node older than package.json asks, rather than fail every engine test', () => {
    // On the CI image the oldest `node` is 20; where it is new enough, jest lists the tests.
    const node = oldestNode();
    const [major, minor] = execFileSync(node, ['-p', 'process.versions.node']).toString().trim().split('.').map(Number);
    const supported = major! >= 24 || (major === 22 && minor! >= 13);

    const result = spawnSync(node, ['node_modules/jest/bin/jest.js', '--listTests'], { env: cleanEnv(), encoding: 'utf8' });

    if (supported) expect({ status: result.status, listed: result.stdout.includes('cli-robustness.test.ts') }).toEqual({ status: 0, listed: true });
    else {
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("the tests need Node ^22.13.0 or >=24 (package.json engines), and this is v");
      expect(result.stderr).toContain('run them with npm test');
    }
  });
});

describe('signals and pipes', () => {
  let busy: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
    busy = undefined;
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('%s to the wrapper while the emulator serves leaves no process on the port', async (signal) => {
    const child = spawn(oldestNode(), ['bin/sequencer.js', 'emulator', '--world', 'local/worlds/demo.json', '--port', '0'], { env: cleanEnv() });
    const { exited } = collect(child);
    const port = Number((await waitForLine(child, /listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    expect(await portIsFree(port)).toBe(false);

    child.kill(signal);
    const code = await exited;

    if (signal === 'SIGTERM') expect(code).toBe(143);
    // The emulator behind a killed wrapper stops when its lifeline to the wrapper closes.
    for (let attempt = 0; attempt < 50 && !(await portIsFree(port)); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await portIsFree(port)).toBe(true);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('the emulator stopped by %s exits %d, run directly as under npx (whose shell dies of the signal), as its help says', async (signal, expected) => {
    // Prepare: each in a process group of its own, signalled as a terminal's Ctrl-C or `timeout` signals: the whole group.
    const stopped = async (command: string, args: string[]) => {
      const child = spawn(command, [...args, 'emulator', '--world', 'local/worlds/demo.json', '--port', '0'], { env: cleanEnv(), detached: true });
      // As a shell reads it: npm may exit with 130 itself, or die of the signal.
      const exited = new Promise<number>((resolve) => child.once('exit', (code, signalName) => resolve(exitCode({ code, signal: signalName ?? undefined }))));
      // Signalled even if it never got ready, so that no emulator outlives the test.
      await waitForLine(child, /^ready;/m).finally(() => child.exitCode === null && process.kill(-child.pid!, signal));
      return exited;
    };
    const { stdout: help } = await warmSequencer(['emulator', '--help']);

    // Act
    const direct = await stopped('node', ['bin/sequencer.js']);
    const throughNpx = await stopped('npx', ['--no', 'sequencer']);

    // Assess
    expect({ direct, throughNpx }).toEqual({ direct: expected, throughNpx: expected });
    expect(help.replace(/\s+/g, ' ')).toContain('130 stopped by Ctrl-C (143 by SIGTERM)');
  });

  it('the emulator on a busy port says so in one line naming the port, exit 2', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy!.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;

    const { code, stdout, stderr } = await warmSequencer(['emulator', '--world', 'local/worlds/demo.json', '--port', String(port)]);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(lines(stderr)).toEqual([`sequencer: port ${port} on 127.0.0.1 is already in use; pick another --port, or --port 0 for any free one`]);
  });

  it('an interrupted run prints "interrupted" and the summary so far, exit 130', async () => {
    const world = file('long.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 10 * 86_400 }] });
    const child = spawn(oldestNode(), ['bin/sequencer.js', 'run', '--world', world, '--input', '{"order":["P1"],"pipelineTimeoutSeconds":1000000}'], {
      env: cleanEnv(),
    });
    const { output, exited } = collect(child);
    // Parked on its callback wait (completion: events), the run prints nothing more until P1 ends.
    await waitForLine(child, /P1 started/);

    child.kill('SIGINT');

    expect(await exited).toBe(130);
    expect(output.stdout).toMatch(/ {2}interrupted \(SIGINT\)\n/);
    expect(output.stdout).toMatch(/^1 {2}P1 +InProgress +\+0:00:00 +- +- +- +[0-9a-f-]{36} +left running \(the run was stopped\)$/m);
    expect(output.stdout).toContain('INTERRUPTED  the run was stopped; P1 was left running in CodePipeline');
    expect(output.stderr).toBe('');
  });

  it('`sequencer run | head -2`: stops writing when the reader goes, quietly, and still exits with the outcome', async () => {
    const child = spawn('node', ['bin/sequencer.js', 'run'], { env: cleanEnv() });
    const { output, exited } = collect(child);
    await waitForLine(child, /order decided/);

    child.stdout.destroy();

    expect(await exited).toBe(0);
    expect(output.stderr).toBe('');
  });
});

describe('a negative number given to an option that takes a number', () => {
  it.each([
    [['emulator', '--world', 'local/worlds/demo.json', '--speed', '-1'], "--speed must be a positive number (1 is wall time, 60 a minute a second), got '-1'"],
    [['emulator', '--world', 'local/worlds/demo.json', '--port', '-1'], "--port must be a whole number from 0 to 65535, got '-1'"],
    [['run', '--continue-at', '-5'], "--continue-at must be a whole number of history events from 500 to 24000, got '-5'"],
    [['status', '--watch', '--interval', '-1'], "--interval must be a number of seconds from 1 to 3600, got '-1'"],
    [['start', '--wait', '--interval', '-1'], "--interval must be a number of seconds from 1 to 3600, got '-1'"],
    [['status', '--watch', '--interval', '-.5'], "--interval must be a number of seconds from 1 to 3600, got '-.5'"],
  ])("%j says what the option takes, not parseArgs' own words", async (args, message) => {
    const { code, stderr } = await warmSequencer(args);

    expect(code).toBe(2);
    expect(lines(stderr)[0]).toBe(`sequencer: ${message}`);
  });
});

describe('a number typed as no person means it: hexadecimal, an exponent, spaces, nothing', () => {
  it.each([
    [['emulator', '--world', 'local/worlds/demo.json', '--port', '0x200'], "--port must be a whole number from 0 to 65535, got '0x200' (written in digits only: 512)"],
    [['emulator', '--world', 'local/worlds/demo.json', '--port', ''], "--port must be a whole number from 0 to 65535, got ''"],
    [['emulator', '--world', 'local/worlds/demo.json', '--speed', '1e3'], "--speed must be a positive number (1 is wall time, 60 a minute a second), got '1e3' (written in digits only: 1000)"],
    [['run', '--continue-at', '0x200'], "--continue-at must be a whole number of history events from 500 to 24000, got '0x200' (written in digits only: 512)"],
    [['run', '--continue-at', ' 600'], "--continue-at must be a whole number of history events from 500 to 24000, got ' 600' (written in digits only: 600)"],
    [['status', '--watch', '--interval', '0x10'], "--interval must be a number of seconds from 1 to 3600, got '0x10' (written in digits only: 16)"],
    // Not a number in any form: nothing to say of digits.
    [['emulator', '--world', 'local/worlds/demo.json', '--speed', 'fast'], "--speed must be a positive number (1 is wall time, 60 a minute a second), got 'fast'"],
  ])('%j is refused by the option’s own rule', async (args, message) => {
    const { code, stderr } = await warmSequencer(args);

    expect(code).toBe(2);
    expect(lines(stderr)[0]).toBe(`sequencer: ${message}`);
  });
});
