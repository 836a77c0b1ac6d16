import { follow, progressLines, scratchFiles, sequencer, warmSequencer } from './binary.js';
import { emulator, latest, untilLatestEnded } from './emulator-process.js';

/**
 * `sequencer start` and `status --watch`, as a release engineer's CI job runs them against AWS:
 * commands judged by what they print and their exit codes (warmSequencer: the binary's main() in a
 * process kept warm; `sequencer` where stdin matters). Here AWS is `sequencer
 * emulator`, whose StartExecution runs the real train (the definition and the handlers) in
 * simulated time paced by --speed, so the watch sees the train unfold. `stop`, `redrive` and a
 * continuation followed are in aws-redrive.test.ts: a file of its own, so that jest runs the two
 * halves' waits side by side.
 */

const file = scratchFiles('sequencer-aws-');
const startTime = '2026-01-01T00:00:00Z';

describe('start under a name already taken', () => {
  it('is refused with exit 3, naming the run and how to see it, and --json still prints one document', async () => {
    // Prepare: a run named release-42 that has ended.
    const world = file('named.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }] });
    const running = await emulator(world, ['--speed', '600']);
    const first = await warmSequencer(['start', '--order', 'P1', '--name', 'release-42', '--wait', '--interval', '1'], running.env);
    expect(first.code).toBe(0);

    // Act: the same name again, as a retried CI job would.
    const again = await warmSequencer(['start', '--order', 'P1', '--name', 'release-42', '--json'], running.env);

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
    const running = await emulator(world, ['--speed', '600']);

    // Act: a pipeline the stage does not allow (the execution fails at DecideOrder), then a good order.
    const notAllowed = await warmSequencer(['start', '--order', 'P1,P9'], running.env);
    const notAllowedJson = await warmSequencer(['start', '--order', 'P1,P9', '--json'], running.env);
    const notAllowedFollowed = await warmSequencer(['start', '--order', 'P1,P9', '--wait', '--interval', '1'], running.env);
    const decided = await warmSequencer(['start', '--order', 'P2,P1'], running.env);
    await untilLatestEnded(running.client);
    const decidedJson = await sequencer(['start', '--input-file', '-', '--json'], running.env, '{"order":[["P1","P2"]]}');
    await untilLatestEnded(running.client);
    const dryRun = await warmSequencer(['start', '--order', 'P2,P1', '--dry-run'], running.env);
    // Told once decided, a dry run's execution may take a moment more to end: a start meanwhile would be refused.
    await untilLatestEnded(running.client);
    const dryRunJson = await warmSequencer(['start', '--order', 'P2,P1', '--dry-run', '--json'], running.env);

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
    const running = await emulator(world, ['--speed', '200']);

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
    const snapshot = await warmSequencer(['status'], running.env);
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
    const running = await emulator(world, ['--speed', '200']);

    const started = await sequencer(['start', '--input-file', '-', '--json'], running.env, '{"order":["P1","P2"]}');
    const watched = await warmSequencer(['status', '--watch', '--interval', '1'], running.env);
    const onGitHub = await warmSequencer(['status', '--watch'], { ...running.env, GITHUB_ACTIONS: 'true' });

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
    const running = await emulator(world, ['--run', '{"order":["P1"]}', '--speed', '10000000']);

    const watched = await warmSequencer(['status', '--watch', '--interval', '1'], running.env);

    expect(watched.code).toBe(1);
    expect(watched.stderr).toMatch(/^sequencer: FAILED {2}PipelineFailed: P1 \(position 1 of 1\)/m);
  });
});
