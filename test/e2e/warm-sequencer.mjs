// The `sequencer` command kept warm, for the end-to-end tests (test/e2e/binary.ts, warmSequencer):
// one process that loads the binary's modules once, through the binary's own hooks, then runs
// command after command through the same main() bin/sequencer.js calls, each with its own
// arguments and environment. A fresh process per command spends most of its CPU loading modules;
// the tests that are about the process itself (signals, pipes, what a start loads, the Node-20
// handover) keep the real binary.
//
// Asked over the IPC channel: { id, args, env }. Answers { id, code, stdout, stderr }, and
// `leftOpen` when the command left something that would keep a real process from exiting.
/* global AbortController */
import { Buffer } from 'node:buffer';
import { setImmediate, setTimeout } from 'node:timers';
import { runTypeScriptAsIs } from '../../bin/typescript-hooks.mjs';

runTypeScriptAsIs();
const { main, output, unexpected } = await import('../../bin/cli.ts');

/** How long a command's leftovers (a closing socket, a last timer) may take to go, as a process's exit would wait for them. */
const settleMs = 2000;

/** What keeps the event loop alive, counted by kind (process.getActiveResourcesInfo: ref'd handles and requests only). */
function activeResources() {
  const counts = new Map();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** The kinds of which more are open than before the command: empty once it has left nothing behind. */
const beyond = (before) => [...activeResources()].filter(([kind, count]) => count > (before.get(kind) ?? 0)).map(([kind, count]) => `${count - (before.get(kind) ?? 0)} ${kind}`);

async function leftOpen(before) {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const left = beyond(before);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 10).unref());
  }
}

/** The command being run: one at a time, since the environment and the standard streams are the process's own. */
let current;

// As bin/cli.ts's cli() does for the binary: an error nothing caught, while the command runs or
// before it would have exited, is one line, exit 2. This process then goes, as the binary would,
// so the next command gets a fresh one.
const crash = (error) => {
  if (current === undefined) throw error;
  current.stderr += `${unexpected(error)}\n`;
  process.send({ id: current.id, code: 2, stdout: current.stdout, stderr: current.stderr, retired: true }, () => process.exit(2));
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const streams = { stdout: process.stdout, stderr: process.stderr };
const writes = { stdout: process.stdout.write, stderr: process.stderr.write };

process.on('message', async ({ id, args, env }) => {
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
  Object.assign(output, { stdoutOpen: true, stderrOpen: true, linesOut: 0 });
  current = { id, stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr']) {
    streams[name].write = (chunk, encoding, callback) => {
      current[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const done = typeof encoding === 'function' ? encoding : callback;
      if (done) process.nextTick(done);
      return true;
    };
  }
  const before = activeResources();
  const code = await main(args, new AbortController().signal);
  // What the binary would still print before it exits (a warning Node emits on a later tick, a
  // last log line) is the command's output too: the streams stay captured until it has settled.
  await new Promise((resolve) => setImmediate(resolve));
  const left = await leftOpen(before);
  const { stdout, stderr } = current;
  current = undefined;
  for (const name of ['stdout', 'stderr']) streams[name].write = writes[name];
  // On exit 2 the binary exits whatever is still open (cli() says why): so does this process,
  // rather than serve the next command beside what this one left.
  if (code === 2 && left.length > 0) {
    process.send({ id, code, stdout, stderr, retired: true }, () => process.exit(2));
    return;
  }
  process.send({ id, code, stdout, stderr, leftOpen: left });
});

process.send({ ready: true });
