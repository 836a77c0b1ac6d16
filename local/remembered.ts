import { createHash, randomUUID } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, unlink, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every `sequencer` command is a new process, and some of what each one works out comes out the
 * same every time: a definition found valid, a YAML file parsed. Such an answer is kept in the
 * temporary directory, in a file named by a hash of everything it depends on (the input's text,
 * the versions of the packages that worked it out), so an edited file or an upgraded package is
 * worked out anew, never answered from a stale file.
 *
 * The temporary directory is shared by every user of the machine, and the names are hashes of
 * public inputs: another user could plant an answer (a stage's params, say). So the answers live in
 * a directory of this user's own, which only they may read or write; a directory of that name
 * that is not so (another owner, other users' access, a symbolic link) is not used at all.
 */
function ownDirectory(): string | undefined {
  const uid = process.getuid?.();
  const directory = join(tmpdir(), `codepipeline-sequencer-${uid ?? 'user'}`);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const found = lstatSync(directory);
    if (!found.isDirectory() || (uid !== undefined && (found.uid !== uid || (found.mode & 0o077) !== 0))) return undefined;
    return directory;
  } catch {
    return undefined;
  }
}

/**
 * Where Node keeps the code it compiles for this user's commands (bin/sequencer.js), or undefined
 * when there is no such directory: compiled code that another user planted in a shared cache would
 * run as this user, so the cache lives in the user's own directory or nowhere.
 */
export function compileCacheDirectory(): string | undefined {
  const directory = ownDirectory();
  return directory === undefined ? undefined : join(directory, 'compile-cache');
}

const placeOf = (kind: string, dependsOn: readonly string[]) => {
  const directory = ownDirectory();
  if (directory === undefined) return undefined;
  return { directory: join(directory, kind), name: createHash('sha256').update(JSON.stringify(dependsOn)).digest('hex') };
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
    mkdirSync(place.directory, { recursive: true });
    writeFileSync(partial, answer);
    renameSync(partial, join(place.directory, place.name));
  } catch {
    // Not kept (a full disk, a file where the directory would be): the next process works it out
    // again. Whatever was written is removed; where nothing was, there is nothing to say.
    unlink(partial, () => undefined);
  }
}
