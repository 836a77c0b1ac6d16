import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { cleanEnv, scratchFiles, sequencer } from './binary.js';
import { emulator, stateMachineArn, type Emulator } from './emulator-process.js';

/**
 * `sequencer start`, `status --watch`, `stop` and `redrive`, as a release engineer's CI job runs
 * them against AWS: separate processes, judged by what they print and their exit codes. Here
 * AWS is `sequencer emulator`, whose StartExecution runs the real train (the definition and the
 * handlers) in simulated time paced by --speed, so the watch sees the train unfold.
 */

const file = scratchFiles('sequencer-aws-');
const startTime = '2026-01-01T00:00:00Z';

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

let running: Emulator | undefined;
afterEach(() => {
  running?.stop();
  running = undefined;
});

const latest = async (client: SFNClient) => (await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }))).executions![0]!;
/** Until the latest execution has ended: a start meanwhile would be refused (AlreadyRunning). */
const untilLatestEnded = async (client: SFNClient) => {
  while ((await latest(client)).status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 100));
};
const progressLines = (stdout: string) => stdout.split('\n').filter((line) => /^ +\+\d+:\d\d:\d\d {2}/.test(line));

describe('start under a name already taken', () => {
  it('is refused with exit 3, naming the run and how to see it, and --json still prints one document', async () => {
    // Prepare: a run named release-42 that has ended.
    const world = file('named.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }] });
    running = await emulator(world, ['--speed', '600']);
    const first = await sequencer(['start', '--order', 'P1', '--name', 'release-42', '--wait', '--interval', '1'], running.env);
    expect(first.code).toBe(0);

    // Act: the same name again, as a retried CI job would.
    const again = await sequencer(['start', '--order', 'P1', '--name', 'release-42', '--json'], running.env);

    // Assess
    const cause =
      "an execution named release-42 already exists on codepipeline-sequencer-dev: Step Functions takes a name again only for the same input while that run is in flight, and refuses it for 90 days after its end; nothing was started. See it with 'npx --no sequencer status --stage dev --execution release-42', or give another --name.";
    expect(again.code).toBe(3);
    expect(JSON.parse(again.stdout)).toEqual({ status: 'REFUSED', error: 'Refused', cause });
    expect(again.stderr.split('\n')[0]).toBe(`sequencer: ${cause}`);
  }, 60_000);
});

describe('start, before it returns', () => {
  it('waits for decide-order, followed or not: tells the order it decided, or its refusal with exit 3 and no pipeline started; a dry run says no pipeline starts', async () => {
    // Prepare
    const world = file('decided.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }, { name: 'P2', durationSeconds: 60 }] });
    running = await emulator(world, ['--speed', '600']);

    // Act: a pipeline the stage does not allow (the execution fails at DecideOrder), then a good order.
    const notAllowed = await sequencer(['start', '--order', 'P1,P9'], running.env);
    const notAllowedJson = await sequencer(['start', '--order', 'P1,P9', '--json'], running.env);
    const notAllowedFollowed = await sequencer(['start', '--order', 'P1,P9', '--wait', '--interval', '1'], running.env);
    const decided = await sequencer(['start', '--order', 'P2,P1'], running.env);
    await untilLatestEnded(running.client);
    const decidedJson = await sequencer(['start', '--input-file', '-', '--json'], running.env, '{"order":[["P1","P2"]]}');
    await untilLatestEnded(running.client);
    const dryRun = await sequencer(['start', '--order', 'P2,P1', '--dry-run'], running.env);
    // Told once decided, a dry run's execution may take a moment more to end: a start meanwhile would be refused.
    await untilLatestEnded(running.client);
    const dryRunJson = await sequencer(['start', '--order', 'P2,P1', '--dry-run', '--json'], running.env);

    // Assess
    const refusal = /^\S+ refused at DecideOrder: PipelineNotAllowed: order: P9 is not allowed in this stage; allowed: P1, P2; no pipeline was started\. See it with 'npx --no sequencer status --stage dev --execution \S+'\.$/;
    expect(notAllowed).toMatchObject({ code: 3, stdout: '' });
    expect(notAllowed.stderr.replace(/^sequencer: /, '').trimEnd()).toMatch(refusal);
    expect(notAllowedJson.code).toBe(3);
    expect(JSON.parse(notAllowedJson.stdout)).toEqual({ status: 'REFUSED', error: 'Refused', cause: expect.stringMatching(refusal) });
    // Followed, the same refusal: nothing started (exit 3), never a train that failed (exit 1).
    expect(notAllowedFollowed).toMatchObject({ code: 3, stdout: '' });
    expect(notAllowedFollowed.stderr.replace(/^sequencer: /, '').trimEnd()).toMatch(refusal);
    expect(decided.code).toBe(0);
    const lines = decided.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Started \S+ on codepipeline-sequencer-dev \(us-east-1\)$/);
    expect(lines.slice(3)).toEqual([
      expect.stringMatching(/^ {2}2026-01-01T\d\d:\d\d:\d\dZ {2}order decided: P2 → P1 \(from the input\)$/),
      expect.stringMatching(/^ {2}follow it: npx --no sequencer status --stage dev --execution \S+ --watch$/),
    ]);
    expect(decidedJson.code).toBe(0);
    expect(JSON.parse(decidedJson.stdout)).toMatchObject({ order: [['P1', 'P2']] });
    expect(JSON.parse(decidedJson.stdout)).not.toHaveProperty('dryRun');
    // A dry run starts an execution that starts no pipeline: the output says so, in words and in --json.
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout.trimEnd().split('\n').at(-1)).toMatch(/^ {2}a dry run: the order is decided and checked, and no pipeline starts; see it with npx --no sequencer status --stage dev --execution \S+$/);
    expect(dryRun.stdout).not.toContain('--watch');
    expect(JSON.parse(dryRunJson.stdout)).toMatchObject({ order: ['P2', 'P1'], dryRun: true });
  }, 60_000);
});

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
      // The start's first look at decide-order takes three (the SDK's attempts) and stops waiting;
      // the five left are more than the SDK's three: the watch backs off and asks again.
      faults: [{ operation: 'GetExecutionHistory', error: 'ThrottlingException', count: 8 }],
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

  it('status --watch of a train that ended before it looked, throttled past the SDK\'s retries while it finds the train: waits, asks again, and tells the failure, exit 1', async () => {
    // Finding the stage's train reads a failed execution's history (was it a start that started nothing?): 5 throttles are more than the SDK's attempts.
    const world = file('ended.json', {
      startTime,
      pipelines: [{ name: 'P1', durationSeconds: 300, outcome: 'Failed', statusSummary: 'Integration tests failed' }],
      faults: [{ operation: 'GetExecutionHistory', error: 'ThrottlingException', count: 5 }],
    });
    running = await emulator(world, ['--run', '{"order":["P1"]}', '--speed', '10000000']);

    const watched = await sequencer(['status', '--watch', '--interval', '1'], running.env);

    expect(watched.code).toBe(1);
    expect(watched.stderr).toMatch(/^sequencer: FAILED {2}PipelineFailed: P1 \(position 1 of 1\)/m);
  });

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
    // The stop is a line of the train's story, with its cause, just before the summary.
    const progress = progressLines(watching.output.stdout);
    expect(progress.at(-1)).toMatch(new RegExp(`^ +\\+\\d+:\\d\\d:\\d\\d {2}${name} stopped in WaitForPipelineEnd: release called off$`));
    expect(watching.output.stdout).toMatch(/^ABORTED {2}the run was stopped; P\d was left running in CodePipeline$/m);
    // Exit 1 with the reason on stderr, where CI keeps it, as for a failure.
    expect(watching.output.stderr).toContain('sequencer: ABORTED  the run was stopped: release called off');
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
    expect(redriven.stdout).toMatch(/^ {2}follow it: npx --no sequencer status --stage dev --execution local-001 --watch$/m);
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
        endedAt: '2026-01-01T00:15:02.045Z',
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
    await running.client.send(new StartExecutionCommand({ stateMachineArn, name: 'typo-4', input: '{"sequence":"relase"}' }));
    const describe = async (name: string) => running!.client.send(new DescribeExecutionCommand({ executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` }));
    const stillRunning = async () => (await Promise.all(['dup-2', 'sched-3', 'typo-4'].map(describe))).some(({ status }) => status === 'RUNNING');
    while (await stillRunning()) await new Promise((resolve) => setTimeout(resolve, 100));

    const whileRunning = await sequencer(['redrive'], running.env);
    const watched = await sequencer(['status', '--watch', '--json', '--interval', '1'], running.env);
    const skipped = await sequencer(['status', '--execution', 'sched-3'], running.env);
    const refused = await sequencer(['redrive', '--execution', 'dup-2'], running.env);
    const mistyped = await sequencer(['redrive', '--execution', 'typo-4'], running.env);
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
    // Refused for its input: the same start would be refused again.
    expect(mistyped.code).toBe(3);
    expect(mistyped.stderr).toMatch(/^sequencer: nothing to redrive: typo-4 was a start that started nothing \(refused at DecideOrder: InvalidInput: .*relase.*\); a redrive would only try that start again\. Fix what its cause names in its input, then start a run with it$/m);
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

