import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every `sequencer` command is a new process, and some of what each one works out comes out the
 * same every time: a definition found valid, a YAML file parsed. Such an answer is kept in the
 * temporary directory, in a file named by a hash of everything it depends on (the input's text,
 * the versions of the packages that worked it out), so an edited file or an upgraded package is
 * worked out anew, never answered from a stale file.
 */
const fileOf = (kind: string, dependsOn: readonly string[]) => ({
  directory: join(tmpdir(), `codepipeline-sequencer-${kind}`),
  name: createHash('sha256').update(JSON.stringify(dependsOn)).digest('hex'),
});

/** The answer kept for these inputs, or undefined when none is (or it cannot be read). */
export function recall(kind: string, dependsOn: readonly string[]): string | undefined {
  const { directory, name } = fileOf(kind, dependsOn);
  try {
    return readFileSync(join(directory, name), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Keeps an answer for the next process. It is written beside its place and renamed into it, so a
 * process reading at the same moment finds the whole answer or none.
 */
export function keep(kind: string, dependsOn: readonly string[], answer: string): void {
  const { directory, name } = fileOf(kind, dependsOn);
  const partial = join(directory, `${name}.${process.pid}.partial`);
  try {
    mkdirSync(directory, { recursive: true });
    writeFileSync(partial, answer);
    renameSync(partial, join(directory, name));
  } catch {
    // Not kept (a read-only or full disk): the next process works it out again.
  }
}
