import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { cleanEnv, exitCode, scratchFiles, sequencer, type Result } from './binary.js';

/**
 * `sequencer start`, `status --watch`, `stop` and `redrive`, as a release engineer's CI job runs
 * them against AWS: separate processes, judged by what they print and their exit codes. Here
 * AWS is `sequencer emulator`, whose StartExecution runs the real train (the definition and the
 * handlers) in simulated time paced by --speed, so the watch sees the train unfold.
 */

const file = scratchFiles('sequencer-aws-');
const startTime = '2026-01-01T00:00:00Z';
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';

/** A command left running, whose lines can be waited for as they come. */
function follow(args: string[], env: Record<string, string>) {
  const child = spawn('node', ['bin/sequencer.js', ...args], { env: cleanEnv(env) });
  const output = { stdout: '', stderr: '' };
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      const line = output.stdout.split('\n').find((candidate) => waiter.pattern.test(candidate));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    output,
    exited,
    waitFor: (pattern: RegExp) => new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
  };
}

/** `sequencer emulator` on a free port: its endpoint once it says it is ready. */
async function emulator(world: string, args: string[] = []) {
  const child = spawn('node', ['bin/sequencer.js', 'emulator', '--world', world, '--port', '0', ...args], { env: cleanEnv() });
  let printed = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed);
      if (found && /^ready; /m.test(printed)) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${printed}`)));
  });
  const client = new SFNClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  return { child, endpoint, env: { AWS_ENDPOINT_URL_SFN: endpoint }, client, stop: () => (client.destroy(), child.kill('SIGTERM')) };
}

type Emulator = Awaited<ReturnType<typeof emulator>>;
let running: Emulator | undefined;
afterEach(() => {
  running?.stop();
  running = undefined;
});

const latest = async (client: SFNClient) => (await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }))).executions![0]!;
const progressLines = (stdout: string) => stdout.split('\n').filter((line) => /^ +\+\d+:\d\d:\d\d {2}/.test(line));

describe('start --wait and status --watch against the emulator', () => {
  it('start --wait follows the train as it runs and ends SUCCEEDED, exit 0, with the lines status prints', async () => {
    const world = file('two.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 600 }, { name: 'P2', durationSeconds: 300 }] });
    running = await emulator(world, ['--speed', '200']);

    const watching = follow(['start', '--order', 'P1,P2', '--wait', '--interval', '1'], running.env);
    await watching.waitFor(/P1 started \(1 of 2\)/);
    const whileWatched = await latest(running.client);
    const code = await watching.exited;

    expect(whileWatched.status).toBe('RUNNING');
    expect(code).toBe(0);
    const { stdout } = watching.output;
    expect(stdout).toMatch(/^Started \S+ on codepipeline-sequencer-dev \(us-east-1\)$/m);
    expect(stdout).toContain(`  https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${whileWatched.executionArn}`);
    expect(stdout).toContain('P2 Succeeded after 5 min');
    expect(stdout).toMatch(/^SUCCEEDED {2}2 pipelines succeeded in /m);
    const snapshot = await sequencer(['status'], running.env);
    expect(snapshot.code).toBe(0);
    expect(progressLines(stdout)).toEqual(progressLines(snapshot.stdout));
    expect(stdout.slice(stdout.indexOf('\n#  pipeline'))).toBe(snapshot.stdout.slice(snapshot.stdout.indexOf('\n#  pipeline')));
  }, 60_000);

  it('start (input on stdin) returns at once with the ARN; status --watch, throttled past the SDK\'s retries, follows the failing train to exit 1', async () => {
    const world = file('failing.json', {
      startTime,
      pipelines: [
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'Integration tests failed' },
      ],
      // More than the SDK's three attempts: the watch backs off and asks again.
      faults: [{ operation: 'GetExecutionHistory', error: 'ThrottlingException', count: 5 }],
    });
    running = await emulator(world, ['--speed', '200']);

    const started = await sequencer(['start', '--input-file', '-', '--json'], running.env, '{"order":["P1","P2"]}');
    const watched = await sequencer(['status', '--watch', '--interval', '1'], running.env);
    const onGitHub = await sequencer(['status', '--watch'], { ...running.env, GITHUB_ACTIONS: 'true' });

    expect(started.code).toBe(0);
    const { executionArn, console: link } = JSON.parse(started.stdout);
    expect(executionArn).toMatch(/^arn:aws:states:us-east-1:123456789012:execution:codepipeline-sequencer-dev:/);
    expect(link).toContain(executionArn);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toContain('order decided: P1 → P2 (from the input)');
    // Read from Step Functions, a failed look has no end time: its line gives no duration.
    expect(watched.stdout).toMatch(/P2 Failed: Integration tests failed/);
    expect(watched.stdout).toMatch(/^2 +P2 +Failed /m);
    expect(watched.stderr).toMatch(/^sequencer: FAILED {2}PipelineFailed: P2 \(position 2 of 2\)/m);
    // Over already: the watch prints it as it stands, on GitHub Actions in a group with an annotation.
    expect(onGitHub.code).toBe(1);
    const printed = onGitHub.stdout.split('\n');
    expect(printed[0]).toMatch(/^::group::codepipeline-sequencer · watching · /);
    expect(printed.indexOf('::endgroup::')).toBeGreaterThan(printed.findIndex((line) => line.includes('P2 Failed: Integration tests failed')));
    expect(onGitHub.stdout).toMatch(/^::error title=sequencer%3A PipelineFailed::P2 \(position 2 of 2\)/m);
  }, 60_000);

  it('stop mid-train: the run in flight refuses another start (exit 3); stopped with a cause, the watch ends ABORTED, exit 1', async () => {
    const world = file('long.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 7200 }, { name: 'P2', durationSeconds: 60 }] });
    running = await emulator(world, ['--speed', '50']);
    const watching = follow(['start', '--order', 'P1,P2', '--wait', '--interval', '1'], running.env);
    await watching.waitFor(/P1 started/);
    const { executionArn, name, startDate } = await latest(running.client);

    const second = await sequencer(['start', '--order', 'P2'], running.env);
    const onlyWatching = follow(['status', '--watch', '--interval', '1'], running.env);
    await onlyWatching.waitFor(/P1 started/);
    onlyWatching.child.kill('SIGINT');
    const interrupted = await onlyWatching.exited;
    const afterInterrupt = await latest(running.client);
    const stopped = await sequencer(['stop', '--cause', 'release called off'], running.env);
    const code = await watching.exited;
    const again = await sequencer(['stop'], running.env);

    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`sequencer: AlreadyRunning: ${name} (started ${startDate!.toISOString()}, ${executionArn}) is in flight on codepipeline-sequencer-dev; nothing was started.`);
    expect(interrupted).toBe(130);
    expect(onlyWatching.output.stderr).toContain("sequencer: stopped watching (SIGINT); the train goes on. 'npx --no sequencer stop --stage dev' stops it.");
    expect(afterInterrupt.status).toBe('RUNNING');
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`^Stopped ${name} at \\S+: release called off$`, 'm'));
    expect(code).toBe(1);
    expect(watching.output.stdout).toContain('ABORTED  the run was stopped; a pipeline in progress was left running');
    expect(await running.client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', cause: 'release called off' });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('sequencer: nothing to stop: no execution of codepipeline-sequencer-dev is running in us-east-1');
  }, 60_000);

  it('redrive after a failure goes on from where it failed and, followed, succeeds: exit 0; then there is nothing to redrive', async () => {
    const world = file('flaky.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 300, outcomes: ['Failed', 'Succeeded'], statusSummary: 'flaky test' }] });
    // What is asserted is how each run ended and what the watch printed of it, which is the same
    // whether the watch read the run live or once over: paced fast, each 5-minute run lasts 0.15 s
    // of wall time, not 1.5 s. The tests above prove the watch sees a train unfold.
    running = await emulator(world, ['--speed', '2000']);

    const failed = await sequencer(['start', '--order', 'P1', '--wait', '--json', '--interval', '1'], running.env);
    const redriven = await sequencer(['redrive', '--wait', '--interval', '1'], running.env);
    const again = await sequencer(['redrive'], running.env);

    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: 'FAILED', error: 'PipelineFailed', pipelines: [{ pipelineName: 'P1', status: 'Failed' }] });
    const { name } = await latest(running.client);
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toMatch(new RegExp(`^Redriven ${name} at \\S+ \\(redrive 1\\): it goes on from where it ended$`, 'm'));
    expect(redriven.stdout).toContain(`${name} redriven from CheckPipelines (redrive 1)`);
    expect(redriven.stdout).toMatch(/^1 +P1 +Succeeded /m);
    expect(redriven.stdout).toMatch(/^SUCCEEDED {2}1 pipeline succeeded/m);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`sequencer: nothing to redrive: ${name}, the train's last execution, succeeded`);
  }, 60_000);

  it('a failed run redriven and running again: status and --json say how, where and when attempt 1 ended and when it was redriven, as the README shows', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = /runs it\):\n\n```text\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('Redriven (`npx --no sequencer redrive`)')))![1]!.split('\n').filter((line) => line.trim() !== '' && line.trim() !== '...');
    // After its run the emulator goes on at the wall clock's pace: the redriven P2 runs for 5 minutes, well past the commands below.
    running = await emulator(new URL('../../local/worlds/failing.json', import.meta.url).pathname, ['--run', '{}']);

    const redriven = await sequencer(['redrive'], running.env);
    const plain = await sequencer(['status'], running.env);
    const json = await sequencer(['status', '--json'], running.env);

    expect([redriven.code, plain.code, json.code]).toEqual([0, 0, 0]);
    // The redrive comes a wall-clock moment after the run's end (+0:15:02 in the README): a busy machine's moment is longer.
    const redriveMoment = (line: string) => line.replace(/\+0:15:\d\d/g, '+0:15:SS').replace(/ after 15 min \d+ s /, ' after 15 min S s ');
    expect(sample.length).toBeGreaterThan(5);
    const printed = plain.stdout.split('\n').map(redriveMoment);
    for (const line of sample) expect(printed).toContain(redriveMoment(line));
    const document = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(document).toMatchObject({ status: 'RUNNING', redrives: 1, pipelines: [{ status: 'Succeeded' }, { pipelineName: 'P2', status: 'InProgress' }, { status: 'Not started' }] });
    expect(document).not.toHaveProperty('error');
    expect(document.earlierAttempts).toEqual([
      {
        executionName: 'local-001',
        attempt: 1,
        status: 'FAILED',
        error: 'PipelineFailed',
        cause: 'P2 (position 2 of 3) execution f61b377f-20ae-38ba-4079-4d844da2e9c6 ended Failed: Unit tests failed. Later pipelines were not started.',
        state: 'CheckPipelines',
        pipelines: ['P2'],
        endedAt: '2026-01-01T00:15:01.845Z',
        redrivenAt: expect.stringMatching(/^2026-01-01T00:15:\d\d\.\d{3}Z$/) as string,
      },
    ]);
  }, 60_000);

  it('redrive past the 14 days Step Functions allows says so, exit 3, with a start from the pipeline it ended on, in the order it ran', async () => {
    const world = file('failed-long-ago.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }, { name: 'P2', durationSeconds: 300, outcome: 'Failed' }, { name: 'P3', durationSeconds: 60 }] });
    // A million times the wall clock: the run's failure is weeks old within seconds. It ran the
    // hotfix sequence: the start names the order it decided, which the sequence may no longer give.
    running = await emulator(world, ['--run', '{"sequence":"hotfix"}', '--speed', '10000000']);

    const { code, stderr } = await sequencer(['redrive'], running.env);

    expect(code).toBe(3);
    expect(stderr).toMatch(/^sequencer: local-001 ended FAILED on 2026-01-01T00:05:\d\dZ, more than 14 days ago: Step Functions redrives an execution only within 14 days of its end/);
    expect(stderr).toContain(`Start a new run instead, from P2, where it ended: npx --no sequencer start --stage dev --input '{"order":["P2","P3","P1"]}' --from P2\n`);
  }, 60_000);

  it('a start refused while the train runs is never the train: status --watch follows the train, redrive redrives it; the refused start, named, is refused with a start to run instead', async () => {
    running = await emulator(new URL('../../local/worlds/failing.json', import.meta.url).pathname, ['--speed', '100']);
    const started = await sequencer(['start', '--name', 'train-1'], running.env);
    await running.client.send(new StartExecutionCommand({ stateMachineArn, name: 'dup-2', input: '{"order":["P3"]}' }));
    await running.client.send(new StartExecutionCommand({ stateMachineArn, name: 'sched-3', input: '{"scheduled":{"whenBusy":"skip","at":"2026-01-01T06:00:00Z"}}' }));
    const describe = async (name: string) => running!.client.send(new DescribeExecutionCommand({ executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` }));
    while ((await describe('dup-2')).status === 'RUNNING' || (await describe('sched-3')).status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 100));

    const whileRunning = await sequencer(['redrive'], running.env);
    const watched = await sequencer(['status', '--watch', '--json', '--interval', '1'], running.env);
    const skipped = await sequencer(['status', '--execution', 'sched-3'], running.env);
    const refused = await sequencer(['redrive', '--execution', 'dup-2'], running.env);
    const redriven = await sequencer(['redrive'], running.env);

    expect(started.code).toBe(0);
    expect(whileRunning).toMatchObject({ code: 3, stderr: "sequencer: nothing to redrive: train-1, the train's current execution, is still running\n" });
    expect(watched.code).toBe(1);
    expect(JSON.parse(watched.stdout)).toMatchObject({ executionName: 'train-1', status: 'FAILED', error: 'PipelineFailed' });
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/^SUCCEEDED {2}the scheduled run for 2026-01-01T06:00:00Z was skipped \(scheduleWhenBusy: skip\): another run of this state machine is in progress: \S+:train-1 /m);
    expect(skipped.stdout).not.toContain('dry run');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^sequencer: nothing to redrive: dup-2 was a start that started nothing \(refused at DecideOrder: AlreadyRunning: another run of this state machine is in progress: \S+:train-1 /);
    expect(refused.stderr).toContain(`To run what it asked for, start a run: npx --no sequencer start --stage dev --input '{"order":["P3"]}'\n`);
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toMatch(/^Redriven train-1 at \S+ \(redrive 1\)/);
    expect(await describe('dup-2')).toMatchObject({ status: 'FAILED', redriveCount: 0 });
  }, 60_000);

  it('a train that continues as new while it is watched: followed into its next execution to the end, exit 0', async () => {
    // Two days of looks pass a 2,000-event handover (--continue-at) once: the train continues
    // once, as 20 days of looks would at 24,000.
    const world = file('two-days.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 2 * 86_400 }] });
    // Polled: an event-woken wait costs a handful of events however long it lasts, and would never continue.
    running = await emulator(world, ['--speed', '10000000', '--completion', 'poll', '--continue-at', '2000']);

    const watched = await sequencer(['start', '--input', `{"order":["P1"],"pipelineTimeoutSeconds":${30 * 86_400}}`, '--wait', '--interval', '1'], running.env);

    expect(watched.code).toBe(0);
    const name = (await latest(running.client)).name!;
    expect(name).toMatch(/-g2$/);
    expect(watched.stdout).toMatch(/the run continues as new execution \S+-g2/);
    expect(watched.stdout).toContain(`${name} took over the run (execution 2 of the train)`);
    expect(watched.stdout).toMatch(/^1 +P1 +Succeeded /m);
    const snapshot = await sequencer(['status', '--json'], running.env);
    expect(JSON.parse(snapshot.stdout).generations.map((generation: { status: string }) => generation.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  }, 180_000);
});

/** A stand-in for an AWS endpoint that answers every call with one error. */
async function failingEndpoint(status: number, type: string, message: string): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });
      response.end(JSON.stringify({ __type: type, message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('a setup problem is never exit 1 (the train failed): exit 2, one line', () => {
  it.each([
    [['status', '--execution', 'arn:garbage'], '--execution "arn:garbage" is not an execution ARN'],
    [['status', '--execution', ''], '--execution is empty'],
    [['status', '--execution', stateMachineArn], `--execution ${stateMachineArn} is a state machine ARN`],
    [['status', '--execution', 'bad name/../x'], '--execution "bad name/../x" is not an execution name'],
    [['stop', '--execution', 'arn:garbage'], '--execution "arn:garbage" is not an execution ARN'],
    [['redrive', '--execution', 'bad name/../x'], '--execution "bad name/../x" is not an execution name'],
    [['start', '--name', 'release 42'], '--name "release 42" is not an execution name'],
    [['start', '--input', '{"oder":["P1"]}'], 'InvalidInput: input: unknown field "oder"'],
    [['start', '--input', '{}', '--input-file', '-'], 'give the input once'],
    [['start', '--input-file', '/nonexistent/input.json'], 'cannot read --input-file /nonexistent/input.json: ENOENT'],
    [['start', '--stage', 'prod', '--stage', 'dev'], '--stage is given more than once; give it once'],
    [['start', '--input', '{"order":["P1"],"order":["P2"]}'], '--input: order is given twice; give it once'],
    [['start', '--interval', '5'], '--interval goes with --wait'],
    // Checked as decide-order would, so a typo never becomes a failed execution.
    [['start', '--order', 'P1,,P2'], 'InvalidInput: order[1]: must be 1 to 100 characters of A-Z a-z 0-9 . @ - _ (CodePipeline’s rule); got ""; nothing was started'],
    [['start', '--order', 'P1,P2+P2'], "InvalidInput: order[1][1]: 'P2' appears twice"],
    [['start', '--order', 'P1,P2', '--from', 'P9'], "InvalidInput: from: 'P9' is not in the order (P1, P2); nothing was started"],
    [['start', '--order', 'P1', '--input', '{"order":["P2"]}'], '--order and "order" in --input: give one of them'],
    [['status', '--region', 'mars'], "--region 'mars' is not a region name"],
    [['status', '--watch', '--interval', '0.1'], '--interval must be a number of seconds, at least 1'],
  ])('%j', async (args, message) => {
    // Refused before any call: nothing listens at this endpoint.
    const { code, stdout, stderr } = await sequencer(args, { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' });

    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr.split('\n')[0]).toContain(`sequencer: ${message}`);
  });

  it('with --json, stdout is still one document: REFUSED, the kind of refusal and its line', async () => {
    // Act: refused before any call, as above; the third by its endpoint.
    const refused = await Promise.all([
      sequencer(['start', '--json', '--order', 'P1,,P2'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' }),
      sequencer(['status', '--json', '--execution', 'bad name/../x'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' }),
      sequencer(['stop', '--json'], { AWS_ENDPOINT_URL_SFN: '127.0.0.1:4599' }),
    ]);

    // Assess: the same line as stderr's first, in a document a CI job can parse.
    expect(refused.map(({ code, stdout, stderr }) => ({ code, document: JSON.parse(stdout) as unknown, line: stderr.split('\n')[0] }))).toEqual([
      { code: 2, document: { status: 'REFUSED', error: 'UsageError', cause: expect.stringContaining("InvalidInput: order[1]") as string }, line: expect.stringContaining('InvalidInput: order[1]') as string },
      { code: 2, document: { status: 'REFUSED', error: 'SetupProblem', cause: expect.stringContaining('--execution "bad name/../x" is not an execution name') as string }, line: expect.any(String) as string },
      { code: 2, document: { status: 'REFUSED', error: 'SetupProblem', cause: expect.stringContaining("AWS_ENDPOINT_URL_SFN '127.0.0.1:4599' is not an http(s) URL") as string }, line: expect.any(String) as string },
    ]);
    for (const { stdout, stderr } of refused) expect(stderr.split('\n')[0]).toBe(`sequencer: ${(JSON.parse(stdout) as { cause: string }).cause}`);
  });

  it('an input over 256 KiB: start and run refuse it in one line, without echoing it', async () => {
    const input = JSON.stringify({ order: ['P1'], padding: 'x'.repeat(300_000) });
    const bytes = Buffer.byteLength(input).toLocaleString('en-US');

    const started = await sequencer(['start', '--input-file', '-'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' }, input);
    const ran = await sequencer(['run', '--json', '--input-file', '-'], {}, input);

    const refusal = `is ${bytes} bytes of JSON; Step Functions takes an execution input of at most 262,144 (256 KiB); nothing was started`;
    expect({ code: started.code, stdout: started.stdout }).toEqual({ code: 2, stdout: '' });
    expect(started.stderr.split('\n')[0]).toBe(`sequencer: --input-file - (stdin) ${refusal}`);
    expect(started.stderr.length).toBeLessThan(500);
    expect(ran.code).toBe(2);
    expect(JSON.parse(ran.stdout)).toEqual({ status: 'REFUSED', error: 'UsageError', cause: `--input-file - ${refusal}` });
  });

  it('an endpoint that is not a URL: names the variable, not the credentials; an empty one is not set, as the SDK reads it', async () => {
    const { server, endpoint } = await failingEndpoint(400, 'AccessDeniedException', 'not you');
    try {
      const { code, stdout, stderr } = await sequencer(['status'], { AWS_ENDPOINT_URL_SFN: '127.0.0.1:4599' });
      const empty = await sequencer(['status'], { AWS_ENDPOINT_URL_SFN: '', AWS_ENDPOINT_URL: endpoint.replace('http://', 'HTTP://') });

      expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
      expect(stderr.split('\n')[0]).toBe("sequencer: AWS_ENDPOINT_URL_SFN '127.0.0.1:4599' is not an http(s) URL, e.g. http://127.0.0.1:4599 for a local emulator");
      // The empty one falls through to AWS_ENDPOINT_URL (its scheme in capitals, as a URL may have it), which answers.
      expect(empty.stderr).toMatch(/^sequencer: access denied by HTTP:\/\/127\.0\.0\.1:\d+ \(AccessDeniedException: not you/);
    } finally {
      server.close();
    }
  });

  it('no credentials: says how to give them', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sequencer-home-'));

    const { code, stderr } = await sequencer(['status', '--stage', 'prod'], { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'eu-west-1' });

    expect(code).toBe(2);
    expect(stderr).toMatch(/^sequencer: no AWS credentials found \(.*\); set AWS_PROFILE or --profile/);
  });

  it('an unknown --profile: names it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sequencer-home-'));

    const { code, stderr } = await sequencer(['start', '--profile', 'nosuch'], { HOME: home, AWS_EC2_METADATA_DISABLED: 'true' });

    expect(code).toBe(2);
    expect(stderr).toMatch(/^sequencer: no AWS credentials found for profile nosuch/);
  });

  it.each([
    [400, 'AccessDeniedException', 'User is not authorized to perform: states:ListStateMachines', /^sequencer: access denied by http:\/\/127\.0\.0\.1:\d+ \(AccessDeniedException: User is not authorized/],
    [500, 'InternalFailure', 'something broke', /^sequencer: unexpected InternalFailure: something broke/],
  ])('an endpoint answering %d %s', async (status, type, message, expected) => {
    const { server, endpoint } = await failingEndpoint(status, type, message);
    try {
      const { code, stderr } = await sequencer(['status', '--watch'], { AWS_ENDPOINT_URL_SFN: endpoint });

      expect(code).toBe(2);
      expect(stderr).toMatch(expected);
    } finally {
      server.close();
    }
  });

  it('no such state machine, or execution: names the region and account searched', async () => {
    running = await emulator(file('one.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }] }));

    const noStateMachine = await sequencer(['start', '--stage', 'prod'], running.env);
    const noExecution = await sequencer(['stop', '--execution', 'nosuch'], running.env);
    const noRuns = await sequencer(['status', '--watch'], running.env);
    const noRedrive = await sequencer(['redrive'], running.env);
    // The stage's state machine is in us-east-1, where it was deployed: another region has none.
    const elsewhere = await sequencer(['start', '--region', 'eu-west-1', '--order', 'P1', '--name', 'eu1'], running.env);
    const nothingElsewhere = await sequencer(['status', '--region', 'eu-west-1'], running.env);

    expect(noStateMachine.code).toBe(2);
    expect(noStateMachine.stderr).toContain(
      "sequencer: there is no state machine codepipeline-sequencer-prod (stage 'prod') in region us-east-1, account 123456789012; there is codepipeline-sequencer-dev;",
    );
    expect(noExecution.code).toBe(2);
    expect(noExecution.stderr).toContain('sequencer: there is no such execution in region us-east-1');
    expect(noRuns.code).toBe(2);
    expect(noRuns.stderr).toContain(`sequencer: ${stateMachineArn} has no executions yet`);
    expect(noRedrive.code).toBe(3);
    expect(noRedrive.stderr).toContain(`sequencer: nothing to redrive: ${stateMachineArn} has no executions yet`);
    for (const refused of [elsewhere, nothingElsewhere]) {
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      // No account is named where none was found, and the deploy it suggests goes to that region.
      expect(refused.stderr.split('\n')[0]).toBe(
        "sequencer: there is no state machine codepipeline-sequencer-dev (stage 'dev') in region eu-west-1; deploy it with 'npx --no sls deploy --stage dev --region eu-west-1', or give --stage, --region or --profile",
      );
    }
  }, 30_000);
});

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
  const emulatorsOf = (world: string) =>
    execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((line) => line.includes(emulatorArgs(world)) && !line.includes('sh -e -c'));
  const runScript = async (script: string, world: string) => {
    const result = await new Promise<Result>((resolve) => {
      execFile('sh', ['-e', '-c', script], { cwd: projectRoot, env: cleanEnv(), timeout: 150_000 }, (error, out, err) =>
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
