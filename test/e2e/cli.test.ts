import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodePipelineClient, ListPipelinesCommand } from '@aws-sdk/client-codepipeline';
import { sequencer, warmSequencer } from './binary.js';


const directory = mkdtempSync(join(tmpdir(), 'sequencer-cli-'));
const worldFile = (name: string, world: unknown) => {
  const path = join(directory, name);
  writeFileSync(path, JSON.stringify(world));
  return path;
};
const failing = worldFile('failing.json', {
  startTime: '2026-01-01T00:00:00Z',
  pipelines: [
    { name: 'P1', durationSeconds: 300 },
    { name: 'P2', durationSeconds: 300, outcome: 'Failed', statusSummary: 'Integration tests failed' },
    { name: 'P3', durationSeconds: 300 },
  ],
});

describe('sequencer run', () => {
  it('--redrive: redriven once, it tells how the attempt before the redrive ended, in the summary and in --json', async () => {
    // Prepare: P2 fails once, then succeeds when started again.
    const flaky = worldFile('flaky.json', {
      startTime: '2026-01-01T00:00:00Z',
      pipelines: [
        { name: 'P1', durationSeconds: 300 },
        { name: 'P2', durationSeconds: 300, outcomes: ['Failed', 'Succeeded'], statusSummary: 'Integration tests failed' },
      ],
    });

    // Act
    const plain = await warmSequencer(['run', '--world', flaky, '--input', '{"order":["P1","P2"]}', '--redrive', '--timestamps']);
    const json = await warmSequencer(['run', '--world', flaky, '--input', '{"order":["P1","P2"]}', '--redrive', '--json']);

    // Assess
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^local-001 attempt 1 {2}FAILED at \S+Z in CheckPipelines \(P2\), redriven at \S+Z\n {2}PipelineFailed: P2 \(position 2 of 2\) execution \S+ ended Failed: Integration tests failed/m);
    expect(plain.stdout).toMatch(/^SUCCEEDED {2}2 pipelines succeeded/m);
    const report = JSON.parse(json.stdout);
    expect({ status: report.status, redrives: report.redrives }).toEqual({ status: 'SUCCEEDED', redrives: 1 });
    expect(report.earlierAttempts).toEqual([
      {
        executionName: 'local-001',
        attempt: 1,
        status: 'FAILED',
        error: 'PipelineFailed',
        cause: expect.stringContaining('ended Failed: Integration tests failed'),
        state: 'CheckPipelines',
        pipelines: ['P2'],
        endedAt: expect.stringMatching(/^2026-01-01T00:10:0\d\.\d{3}Z$/),
        redrivenAt: expect.stringMatching(/^2026-01-01T00:10:0\d\.\d{3}Z$/),
      },
    ]);
  });

  it('--world - reads the world from stdin, as --input-file - reads the input; both at once is refused', async () => {
    const world = { startTime: '2026-01-01T00:00:00Z', pipelines: [{ name: 'Piped', durationSeconds: 60 }] };

    const piped = await sequencer(['run', '--world', '-', '--order', 'Piped'], {}, JSON.stringify(world));
    const both = await warmSequencer(['run', '--world', '-', '--input-file', '-']);
    const broken = await sequencer(['run', '--world', '-'], {}, '{"startTime":');

    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/world - \(stdin\)/);
    expect(piped.stdout).toMatch(/^SUCCEEDED {2}1 pipeline succeeded/m);
    expect(both).toMatchObject({ code: 2, stderr: expect.stringContaining('--world - and --input-file - would both read stdin') as unknown });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^sequencer: - \(stdin\): not valid JSON/);
  });

  it('an input with both an order and a sequence follows the order, with other options beside it too; naming either as an option is refused', async () => {
    const both = '{"order":["P1"],"sequence":"release"}';

    const dryRun = await warmSequencer(['run', '--input', both, '--dry-run']);
    const withFrom = await warmSequencer(['run', '--input', both, '--from', 'P1', '--dry-run']);
    const optionBeside = await warmSequencer(['run', '--input', '{"order":["P1"]}', '--sequence', 'release']);

    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/order decided: P1 \(from the input\)/);
    expect(withFrom.code).toBe(0);
    expect(optionBeside.code).toBe(2);
    expect(optionBeside.stderr).toContain('"order" in --input and --sequence: an order wins over a sequence');
  });

  it('--json prints one JSON document: status, output, world executions in start order, stats', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', 'local/worlds/demo.json', '--input', '{"order":["P3","P2","P1"]}', '--json']);

    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.output.order).toEqual(['P3', 'P2', 'P1']);
    expect(report.pipelines.map((row: { position: number; pipelineName: string; status: string }) => [row.position, row.pipelineName, row.status])).toEqual([
      [1, 'P3', 'Succeeded'],
      [2, 'P2', 'Succeeded'],
      [3, 'P1', 'Succeeded'],
    ]);
    expect(report.pipelines.map((row: { pipelineExecutionId: string }) => row.pipelineExecutionId)).toEqual(
      report.world.executions.map((execution: { pipelineExecutionId: string }) => execution.pipelineExecutionId),
    );
    expect(report.world.executions.map((execution: { pipelineName: string }) => execution.pipelineName)).toEqual(['P3', 'P2', 'P1']);
    for (const execution of report.world.executions) {
      expect(execution).toMatchObject({ status: 'Succeeded', pipelineExecutionId: expect.any(String) });
      expect(new Date(execution.startedAt).toISOString()).toBe(execution.startedAt);
      expect(new Date(execution.finishedAt).toISOString()).toBe(execution.finishedAt);
    }
    expect(report.stats.lambdaInvocations).toBeGreaterThan(3);
    expect(report.stats.historyEvents).toBeGreaterThan(report.stats.stateTransitions);
    expect(report.stats.simulatedSeconds).toBeGreaterThan(0);
  });

  it('exits 1 on a failed run, with the error and cause in the JSON', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', failing, '--json']);

    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'FAILED',
      error: 'PipelineFailed',
      cause: expect.stringContaining('P2 (position 2 of 3)'),
    });
  });

  it('tells, once above the outcome and in --json, the event function’s invocations that failed, with no stack, as AWS would log them', async () => {
    const world = worldFile('wake-denied.json', {
      startTime: '2026-01-01T00:00:00Z',
      pipelines: [{ name: 'P1', durationSeconds: 300 }],
      faults: [{ operation: 'SendTaskSuccess', error: 'AccessDeniedException', count: 1 }],
    });

    const [human, json] = await Promise.all([warmSequencer(['run', '--world', world, '--order', 'P1']), warmSequencer(['run', '--world', world, '--order', 'P1', '--json'])]);

    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^pipelineEvent failed once, at \+0:05:0\d \(on AWS: Lambda's retries, then the dead-letter queue\): AwsRequestRejected: SendTaskSuccess: AccessDeniedException: AccessDeniedException injected by the world file\nSUCCEEDED {2}1 pipeline succeeded/m,
    );
    expect(human.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse(json.stdout).functionFailures).toEqual([
      { functionName: 'pipelineEvent', at: expect.stringMatching(/^2026-01-01T00:05:0\d\.\d{3}Z$/) as unknown, error: 'AwsRequestRejected', message: expect.stringContaining('SendTaskSuccess: AccessDeniedException') as unknown },
    ]);
  });

  it('prints a readable run for a person: one line per step, a summary table, the outcome; no logs, no colour off a terminal', async () => {
    const { code, stdout } = await warmSequencer(['run', '--world', failing]);

    expect(code).toBe(1);
    expect(stdout).toContain("order decided: P1 → P2 → P3 (the default sequence 'release')");
    expect(stdout).toMatch(/P1 started \(1 of 3\), execution [0-9a-f-]{36}/);
    expect(stdout).toMatch(/P2 Failed after 5 min \((event|sweep), \+[\d.]+ s\): Integration tests failed/);
    expect(stdout).toMatch(/#\s+pipeline\s+status\s+started\s+finished\s+duration\s+detected\s+execution\s+reason/);
    expect(stdout).toMatch(/2\s+P2\s+Failed .* PipelineFailed: Integration tests failed/);
    expect(stdout).toMatch(/3\s+P3\s+Not started .* position 2 did not succeed/);
    expect(stdout).toContain('FAILED  PipelineFailed: P2 (position 2 of 3)');
    expect(stdout).not.toContain('"level"');
    expect(stdout).not.toContain('\u001b[');
  });

  it('takes the order, from and dry run as options of their own, as start does', async () => {
    const { code, stdout } = await warmSequencer(['run', '--order', 'P3,P1+P2', '--from', 'P1', '--dry-run', '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'SUCCEEDED',
      output: { order: ['P3', ['P1', 'P2']], from: 'P1', dryRun: true },
    });
  });

  it.each([
    [['run', '--world', 'no/such/world.json'], 'no/such/world.json'],
    [['run', '--bogus'], "Unknown option '--bogus'"],
    // The emulator takes the input of the run it starts as --run.
    [['emulator', '--world', 'local/worlds/demo.json', '--input', '{}'], "Unknown option '--input' (did you mean --run?)"],
    [['run', '--input', '{not json'], '--input is not valid JSON'],
    [['run', '--stage', 'qa/1'], "--stage 'qa/1' is not a stage name sls accepts"],
    [['launch'], "unknown command 'launch'"],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const { code, stdout, stderr } = await warmSequencer(args);

    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
  });

  it('exits 2 naming the field of a malformed world file', async () => {
    const bad = worldFile('bad.json', { startTime: '2026-01-01T00:00:00Z', pipelines: [{ name: 'P1', durationSecs: 60 }] });

    const { code, stderr } = await warmSequencer(['run', '--world', bad]);

    expect(code).toBe(2);
    expect(stderr).toContain('pipelines[0]');
    expect(stderr).toContain('durationSecs');
  });
});

/** The endpoint an emulator process prints once it listens. */
const endpointOf = (child: ChildProcessWithoutNullStreams) =>
  new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(chunk.toString());
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });

describe('sequencer emulator', () => {
  it('serves the world on the port it prints, for the AWS CLI or your own code', async () => {
    const child = spawn('node', ['bin/sequencer.js', 'emulator', '--world', 'local/worlds/demo.json', '--port', '0']);
    try {
      const endpoint = await endpointOf(child);
      const client = new CodePipelineClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

      const { pipelines } = await client.send(new ListPipelinesCommand({}));

      expect(pipelines?.map((pipeline) => pipeline.name)).toEqual(['P1', 'P2', 'P3']);
      client.destroy();
    } finally {
      child.kill('SIGINT');
    }
  });
});

describe('sequencer emulator --run, then sequencer status', () => {
  it('serves the run’s history, and status reads it with no AWS credentials set', async () => {
    const child = spawn('node', ['bin/sequencer.js', 'emulator', '--world', failing, '--run', '{"order":["P1","P2","P3"]}', '--port', '0']);
    try {
      const endpoint = await endpointOf(child);
      // No credentials, region or profile: the clean environment has no AWS_ variable but this one.
      const { code, stdout, stderr } = await warmSequencer(['status', '--json'], { AWS_ENDPOINT_URL_SFN: endpoint });

      expect(code).toBe(1);
      const report = JSON.parse(stdout);
      expect(report).toMatchObject({ status: 'FAILED', error: 'PipelineFailed', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev' });
      expect(report.pipelines.map((row: { status: string }) => row.status)).toEqual(['Succeeded', 'Failed', 'Not started']);
      expect(stderr).toContain('sequencer: FAILED  PipelineFailed: P2 (position 2 of 3)');
    } finally {
      child.kill('SIGINT');
    }
  });
});

describe('npm start', () => {
  it('prints what the README shows (the sample there is this run, lines elided with ...)', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = /```text\n([\s\S]*?)```/.exec(readme)![1]!.split('\n').filter((line) => line.trim() !== '' && line.trim() !== '...');

    const { code, stdout } = await warmSequencer(['run']);

    expect(code).toBe(0);
    expect(sample.length).toBeGreaterThan(5);
    const printed = stdout.split('\n');
    for (const line of sample) expect(printed).toContain(line);
  });

  it('takes another world as `npm start -- --world FILE`: the script gives none of the options a user may add', async () => {
    // Prepare: the command the script runs, as npm runs it, with what `npm start -- ...` appends.
    const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
    const [, , ...scriptArgs] = scripts.start.split(' ');

    // Act
    const { code, stderr } = await warmSequencer([...scriptArgs, '--world', 'local/worlds/failing.json']);

    // Assess: that world's run, which fails, not a refusal of the command line.
    expect(scriptArgs).toEqual(['run']);
    expect(code).toBe(1);
    expect(stderr).toContain('sequencer: FAILED  PipelineFailed: P2 (position 2 of 3)');
  });
});
