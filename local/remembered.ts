import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, renameSync, unlink, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownSubdirectory } from './own-directory.mjs';

/**
 * Every `sequencer` command is a new process, and some of what each one works out comes out the
 * same every time: a definition found valid, a YAML file parsed. Such an answer is kept in the
 * temporary directory, in a file named by a hash of everything it depends on (the input's text,
 * the versions of the packages that worked it out), so an edited file or an upgraded package is
 * worked out anew, never answered from a stale file.
 * Such answers live in the user's own directory (./own-directory.mjs), out of other users' reach.
 */

const placeOf = (kind: string, dependsOn: readonly string[]) => {
  const directory = ownSubdirectory(kind);
  if (directory === undefined) return undefined;
  return { directory, name: createHash('sha256').update(JSON.stringify(dependsOn)).digest('hex') };
};

/** The answer kept for these inputs, or undefined when none is (or it cannot be read). */
export function recall(kind: string, dependsOn: readonly string[]): string | undefined {
  const place = placeOf(kind, dependsOn);
  if (place === undefined) return undefined;
  try {
    return readFileSync(join(place.directory, place.name), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Keeps an answer for the next process. It is written beside its place under a name no other
 * writer uses, and renamed into it, so a process reading at the same moment finds the whole answer or none.
 */
export function keep(kind: string, dependsOn: readonly string[], answer: string): void {
  const place = placeOf(kind, dependsOn);
  if (place === undefined) return;
  const partial = join(place.directory, `${place.name}.${randomUUID()}.partial`);
  try {
    writeFileSync(partial, answer);
    renameSync(partial, join(place.directory, place.name));
  } catch {
    // Not kept (a full disk, say): the next process works it out again. Whatever was written is
    // removed; where nothing was, there is nothing to say.
    unlink(partial, () => undefined);
  }
}
