import { spawn } from 'node:child_process';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { cleanEnv } from './binary.js';

/** The dev stage's state machine, as `sequencer emulator` deploys it. */
export const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';

/** The emulators the running test started: each stops when its test ends, however the test ends. */
const startedThisTest = new Set<{ stop: () => unknown }>();
afterEach(() => {
  for (const started of startedThisTest) started.stop();
  startedThisTest.clear();
});

/** `sequencer emulator` on a free port, for the running test only: its endpoint once it says it is ready. */
export async function emulator(world: string, args: string[] = []) {
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
  const started = { child, endpoint, env: { AWS_ENDPOINT_URL_SFN: endpoint }, client, stop: () => (client.destroy(), child.kill('SIGTERM')) };
  startedThisTest.add(started);
  return started;
}

/** The emulator's latest execution of the dev stage's state machine. */
export const latest = async (client: SFNClient) => (await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }))).executions![0]!;
/** Until the latest execution has ended: a start meanwhile would be refused (AlreadyRunning). */
export const untilLatestEnded = async (client: SFNClient) => {
  while ((await latest(client)).status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 100));
};
