import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { follow, scratchFiles, sequencer, warmSequencer } from './binary.js';
import { emulator, stateMachineArn } from './emulator-process.js';

/**
 * `sequencer start`, `status`, `stop` and `redrive` given something they cannot work with: a bad
 * option, no credentials, an endpoint that refuses, no state machine. A CI job must tell such a
 * setup problem (exit 2, one line) from a train that failed (exit 1).
 */

const file = scratchFiles('sequencer-aws-refusals-');
const startTime = '2026-01-01T00:00:00Z';

/** A stand-in for an AWS endpoint that answers every call with one error. */
async function failingEndpoint(status: number, type: string, message: string): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });
      response.end(JSON.stringify({ __type: type, message }));
    });
  });
  return { server, endpoint: await listening(server) };
}

/** `server` listening on a free port of 127.0.0.1: the endpoint to point a command at. */
async function listening(server: Server | NetServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
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
    [['start', '--order', 'P1,,P2'], "--order 'P1,,P2': entry 2 is empty (a comma too many?); entries are separated by commas, a group's members joined by +, e.g. --order P1,P2+P3,P4"],
    [['start', '--order', 'P1,P2+P2'], "InvalidInput: order[1][1]: 'P2' appears twice"],
    [['start', '--order', 'P1,P2', '--from', 'P9'], "InvalidInput: from: 'P9' is not in the order (P1, P2); nothing was started"],
    [['start', '--order', 'P1', '--input', '{"order":["P2"]}'], '--order and "order" in --input: give one of them'],
    // An order wins over a sequence: one named beside it would be ignored without a word.
    [['start', '--order', 'P1', '--sequence', 'release'], '--order and --sequence: an order wins over a sequence, so the sequence would be ignored; give one of them'],
    [['start', '--sequence', 'release', '--input', '{"order":["P2"]}'], '"order" in --input and --sequence: an order wins over a sequence'],
    [['status', '--region', 'mars'], "--region 'mars' is not a region name"],
    [['status', '--watch', '--interval', '0.1'], '--interval must be a number of seconds from 1 to 3600'],
    // StopExecution's own limit, checked before the call rather than answered ValidationException by AWS.
    [['stop', '--cause', 'x'.repeat(40_000)], '--cause is 40,000 characters; Step Functions keeps at most 32,768'],
    // Past Node's 24.8-day timer limit a look would fire every millisecond: hundreds of calls a second.
    [['status', '--watch', '--interval', '3000000'], "--interval must be a number of seconds from 1 to 3600, got '3000000'"],
    [['start', '--wait', '--interval', '3601'], "--interval must be a number of seconds from 1 to 3600, got '3601'"],
  ])('%j', async (args, message) => {
    // Refused before any call: nothing listens at this endpoint.
    const { code, stdout, stderr } = await warmSequencer(args, { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' });

    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr.split('\n')[0]).toContain(`sequencer: ${message}`);
  });

  it('with --json, stdout is still one document: REFUSED, the kind of refusal and its line', async () => {
    // Act: refused before any call, as above; the third by its endpoint.
    const refused = await Promise.all([
      warmSequencer(['start', '--json', '--order', 'P1,P2+P2'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' }),
      warmSequencer(['status', '--json', '--execution', 'bad name/../x'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' }),
      warmSequencer(['stop', '--json'], { AWS_ENDPOINT_URL_SFN: '127.0.0.1:4599' }),
    ]);

    // Assess: the same line as stderr's first, in a document a CI job can parse.
    expect(refused.map(({ code, stdout, stderr }) => ({ code, document: JSON.parse(stdout) as unknown, line: stderr.split('\n')[0] }))).toEqual([
      { code: 2, document: { status: 'REFUSED', error: 'UsageError', cause: expect.stringContaining("InvalidInput: order[1][1]: 'P2' appears twice") as string }, line: expect.stringContaining('InvalidInput: order[1][1]') as string },
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
    expect(JSON.parse(ran.stdout)).toEqual({ status: 'REFUSED', error: 'UsageError', cause: `--input-file - (stdin) ${refusal}` });
  });

  it('an input on stdin that is not JSON: start and run name it the same way', async () => {
    const started = await sequencer(['start', '--input-file', '-'], { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1' }, '{not json');
    const ran = await sequencer(['run', '--input-file', '-'], {}, '{not json');

    for (const { code, stderr } of [started, ran]) {
      expect(code).toBe(2);
      expect(stderr.split('\n')[0]).toMatch(/^sequencer: --input-file - \(stdin\) is not valid JSON: /);
    }
  });

  it('an endpoint that is not a URL: names the variable, not the credentials; an empty one is not set, as the SDK reads it', async () => {
    const { server, endpoint } = await failingEndpoint(400, 'AccessDeniedException', 'not you');
    try {
      const { code, stdout, stderr } = await warmSequencer(['status'], { AWS_ENDPOINT_URL_SFN: '127.0.0.1:4599' });
      const empty = await warmSequencer(['status'], { AWS_ENDPOINT_URL_SFN: '', AWS_ENDPOINT_URL: endpoint.replace('http://', 'HTTP://') });

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

    const { code, stderr } = await warmSequencer(['status', '--stage', 'prod'], { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'eu-west-1' });

    expect(code).toBe(2);
    expect(stderr).toMatch(/^sequencer: no AWS credentials found \(.*\); set AWS_PROFILE or --profile/);
  });

  it('an AWS_ACCESS_KEY_ID without its secret, beside an emulator endpoint: says it turned off the dummy credentials', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sequencer-home-'));

    const { code, stderr } = await warmSequencer(['status'], { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1', AWS_ACCESS_KEY_ID: 'x' });

    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^sequencer: no AWS credentials found \(.*\); AWS_ENDPOINT_URL_SFN points at an emulator, whose dummy credentials are used only without AWS_ACCESS_KEY_ID \(set, here, without a whole key pair\): unset it, or set AWS_SECRET_ACCESS_KEY too$/m,
    );
  });

  it('an endpoint that is not Step Functions (a wrong port, a proxy page): says what it answered, not how to read the SDK', async () => {
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<!DOCTYPE html><html><body>Not Found</body></html>');
    });
    const endpoint = await listening(server);
    try {
      const { code, stderr } = await warmSequencer(['status'], { AWS_ENDPOINT_URL_SFN: endpoint });

      expect(code).toBe(2);
      expect(stderr).toBe(`sequencer: ${endpoint} answered with HTTP 404 (text/html), not as Step Functions does; is AWS_ENDPOINT_URL_SFN the emulator's address?\n`);
    } finally {
      server.close();
    }
  });

  it('Ctrl-C while a call waits on an endpoint that never answers: ends at once, exit 130, saying what it waited for', async () => {
    // A server that takes the connection and never answers (a hung proxy, a paused emulator).
    const held: Socket[] = [];
    let connected = () => {};
    const reached = new Promise<void>((resolve) => (connected = resolve));
    const server = createNetServer((socket) => {
      held.push(socket);
      connected();
    });
    const endpoint = await listening(server);
    try {
      const { child, output, exited } = follow(['status'], { AWS_ENDPOINT_URL_SFN: endpoint });
      await reached;

      child.kill('SIGINT');

      expect(await exited).toBe(130);
      // status only reads: nothing it asked can still happen.
      expect(output.stderr).toBe(`sequencer: interrupted (SIGINT) before ${endpoint} answered\n`);
    } finally {
      for (const socket of held) socket.destroy();
      server.close();
    }
  });

  it('Ctrl-C while status --watch is still finding the train, its call in flight: stopped watching, as later on', async () => {
    // Prepare: an endpoint that knows the stage's state machine, and never answers the look for its train.
    const stateMachines = { stateMachines: [{ name: 'codepipeline-sequencer-dev', stateMachineArn, type: 'STANDARD', creationDate: 1_767_225_600 }] };
    let looked = () => {};
    const looking = new Promise<void>((resolve) => (looked = resolve));
    const server = createServer((request, response) => {
      request.resume();
      if (request.headers['x-amz-target'] === 'AWSStepFunctions.ListStateMachines') {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(stateMachines));
      } else looked();
    });
    const endpoint = await listening(server);
    try {
      const { child, output, exited } = follow(['status', '--watch'], { AWS_ENDPOINT_URL_SFN: endpoint });
      await looking;

      // Act
      child.kill('SIGINT');

      // Assess
      expect(await exited).toBe(130);
      expect(output.stderr).toBe("sequencer: stopped watching (SIGINT); the train goes on. 'npx --no sequencer stop --stage dev' stops it.\n");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('an unknown --profile: names it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sequencer-home-'));

    const { code, stderr } = await warmSequencer(['start', '--profile', 'nosuch'], { HOME: home, AWS_EC2_METADATA_DISABLED: 'true' });

    expect(code).toBe(2);
    expect(stderr).toMatch(/^sequencer: no AWS credentials found for profile nosuch/);
  });

  it.each([
    [400, 'AccessDeniedException', 'User is not authorized to perform: states:ListStateMachines', /^sequencer: access denied by http:\/\/127\.0\.0\.1:\d+ \(AccessDeniedException: User is not authorized/],
    [500, 'InternalFailure', 'something broke', /^sequencer: unexpected InternalFailure: something broke/],
  ])('an endpoint answering %d %s', async (status, type, message, expected) => {
    const { server, endpoint } = await failingEndpoint(status, type, message);
    try {
      const { code, stderr } = await warmSequencer(['status', '--watch'], { AWS_ENDPOINT_URL_SFN: endpoint });

      expect(code).toBe(2);
      expect(stderr).toMatch(expected);
    } finally {
      server.close();
    }
  });

  it('no such state machine, or execution: names the region and account searched', async () => {
    const running = await emulator(file('one.json', { startTime, pipelines: [{ name: 'P1', durationSeconds: 60 }] }));

    const noStateMachine = await warmSequencer(['start', '--stage', 'prod'], running.env);
    const noExecution = await warmSequencer(['stop', '--execution', 'nosuch'], running.env);
    const noRuns = await warmSequencer(['status', '--watch'], running.env);
    const noRedrive = await warmSequencer(['redrive'], running.env);
    // The stage's state machine is in us-east-1, where it was deployed: another region has none.
    const elsewhere = await warmSequencer(['start', '--region', 'eu-west-1', '--order', 'P1', '--name', 'eu1'], running.env);
    const nothingElsewhere = await warmSequencer(['status', '--region', 'eu-west-1'], running.env);

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

