import type { Clock } from './clock.js';

type LogMethod = (line: unknown) => void;

/**
 * Locally the functions run inside the `sequencer` process, whose stdout is the report (one JSON
 * document with --json), so their logs go to stderr, as they would go to CloudWatch beside it on
 * AWS. And a run lives in simulated time, so each log line carries the simulated instant it was
 * written at, matching the progress lines, not the wall clock's.
 *
 * Powertools offers no option for either: its Logger writes each line through a Console it keeps
 * in a field, so this swaps that field (covered by test/e2e/function-logs.test.ts, which fails if
 * a Powertools upgrade renames it).
 */
export async function routeFunctionLogs(clock: Clock): Promise<void> {
  // Imported only now: Powertools reads POWERTOOLS_LOG_LEVEL once, when the logger is made, and
  // the engine sets the functions' environment just before.
  const { logger } = await import('../src/logger.js');
  const write: LogMethod = (line) => {
    process.stderr.write(`${withSimulatedTime(String(line), clock.now())}\n`);
  };
  const target = logger as unknown as { console: Record<'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace', LogMethod> };
  if (typeof target.console?.info !== 'function') throw new Error('Powertools Logger keeps no console field: local function logs cannot be routed');
  target.console = { log: write, info: write, warn: write, error: write, debug: write, trace: write };
}

/** Powertools prints one JSON object per line; its `timestamp` becomes the simulated instant. */
function withSimulatedTime(line: string, nowMs: number): string {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (typeof entry === 'object' && entry !== null && 'timestamp' in entry) {
      return JSON.stringify({ ...entry, timestamp: new Date(nowMs).toISOString() });
    }
  } catch {
    // Not a JSON line: leave it as written.
  }
  return line;
}
