import { readFileSync } from 'node:fs';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { follow, progressLines, scratchFiles, warmSequencer, type Result } from './binary.js';
import { emulator, latest, stateMachineArn, untilLatestEnded } from './emulator-process.js';

/**
 * `sequencer stop` and `redrive`, and `status --watch` of a train that is stopped, redriven or
 * continued as new, against `sequencer emulator` as in aws-commands.test.ts.
 */

const file = scratchFiles('sequencer-aws-redrive-');
const startTime = '2026-01-01T00:00:00Z';

describe('stop, redrive and continuation against the emulator', () => {
  it('stop mid-train: the run in flight refuses another start (exit 3); stopped with a cause, the watch ends ABORTED, exit 1', async () => {
    const world = file('long.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 7200 }, { name: 'P2', durationSeconds: 60 }] });
    const running = await emulator(world, ['--speed', '50']);
    const watching = follow(['start', '--order', 'P1,P2', '--wait', '--interval', '1'], running.env);
    await watching.waitFor(/P1 started/);
    const { executionArn, name, startDate } = await latest(running.client);

    const second = await warmSequencer(['start', '--order', 'P2'], running.env);
    const onlyWatching = follow(['status', '--watch', '--interval', '1'], running.env);
    await onlyWatching.waitFor(/P1 started/);
    onlyWatching.child.kill('SIGINT');
    const interrupted = await onlyWatching.exited;
    const afterInterrupt = await latest(running.client);
    const stopped = await warmSequencer(['stop', '--cause', 'release called off'], running.env);
    const code = await watching.exited;
    const again = await warmSequencer(['stop'], running.env);

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
    const running = await emulator(world, ['--speed', '2000']);

    const failed = await warmSequencer(['start', '--order', 'P1', '--wait', '--json', '--interval', '1'], running.env);
    const redriven = await warmSequencer(['redrive', '--wait', '--interval', '1'], running.env);
    const again = await warmSequencer(['redrive'], running.env);

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
    const running = await emulator(new URL('../../local/worlds/failing.json', import.meta.url).pathname, ['--run', '{}']);

    const redriven = await warmSequencer(['redrive'], running.env);
    // The redriven execution starts P2 again a moment after the redrive returns.
    const p2Again = (status: Result) => (JSON.parse(status.stdout) as { pipelines?: { status?: string }[] }).pipelines?.[1]?.status === 'InProgress';
    let json = await warmSequencer(['status', '--json'], running.env);
    for (let look = 0; look < 100 && !p2Again(json); look += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      json = await warmSequencer(['status', '--json'], running.env);
    }
    const plain = await warmSequencer(['status'], running.env);

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
    const running = await emulator(world, ['--run', '{"sequence":"hotfix"}', '--speed', '10000000']);
    // 14 days pass in 0.12 s of wall time at that speed: a command asked sooner after the end redrives.
    await untilLatestEnded(running.client);
    await new Promise((resolve) => setTimeout(resolve, 250));

    const { code, stderr } = await warmSequencer(['redrive'], running.env);

    expect(code).toBe(3);
    expect(stderr).toMatch(/^sequencer: local-001 ended FAILED on 2026-01-01T00:05:\d\dZ, more than 14 days ago: Step Functions redrives an execution only within 14 days of its end/);
    expect(stderr).toContain(`Start a new run instead, from P2, where it ended: npx --no sequencer start --stage dev --input '{"order":["P2","P3","P1"]}' --from P2\n`);
  }, 60_000);

  it('a start refused while the train runs is never the train: status --watch follows the train, redrive redrives it; the refused start, named, is refused with a start to run instead', async () => {
    const running = await emulator(new URL('../../local/worlds/failing.json', import.meta.url).pathname, ['--speed', '100']);
    const started = await warmSequencer(['start', '--name', 'train-1'], running.env);
    await running.client.send(new StartExecutionCommand({ stateMachineArn, name: 'dup-2', input: '{"order":["P3"]}' }));
    await running.client.send(new StartExecutionCommand({ stateMachineArn, name: 'sched-3', input: '{"scheduled":{"whenBusy":"skip","at":"2026-01-01T06:00:00Z"}}' }));
    await running.client.send(new StartExecutionCommand({ stateMachineArn, name: 'typo-4', input: '{"sequence":"relase"}' }));
    const describe = async (name: string) => running!.client.send(new DescribeExecutionCommand({ executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` }));
    const stillRunning = async () => (await Promise.all(['dup-2', 'sched-3', 'typo-4'].map(describe))).some(({ status }) => status === 'RUNNING');
    while (await stillRunning()) await new Promise((resolve) => setTimeout(resolve, 100));

    const whileRunning = await warmSequencer(['redrive'], running.env);
    const watched = await warmSequencer(['status', '--watch', '--json', '--interval', '1'], running.env);
    const skipped = await warmSequencer(['status', '--execution', 'sched-3'], running.env);
    const refused = await warmSequencer(['redrive', '--execution', 'dup-2'], running.env);
    const mistyped = await warmSequencer(['redrive', '--execution', 'typo-4'], running.env);
    const redriven = await warmSequencer(['redrive'], running.env);

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
    const running = await emulator(world, ['--speed', '10000000', '--completion', 'poll', '--continue-at', '2000']);

    const watched = await warmSequencer(['start', '--input', `{"order":["P1"],"pipelineTimeoutSeconds":${30 * 86_400}}`, '--wait', '--interval', '1'], running.env);

    expect(watched.code).toBe(0);
    const name = (await latest(running.client)).name!;
    expect(name).toMatch(/-g2$/);
    expect(watched.stdout).toMatch(/the run continues as new execution \S+-g2/);
    expect(watched.stdout).toContain(`${name} took over the run (execution 2 of the train)`);
    expect(watched.stdout).toMatch(/^1 +P1 +Succeeded /m);
    const snapshot = await warmSequencer(['status', '--json'], running.env);
    expect(JSON.parse(snapshot.stdout).generations.map((generation: { status: string }) => generation.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  }, 180_000);
});

