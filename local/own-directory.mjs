// JavaScript, not TypeScript: bin/sequencer.js reads where Node's compile cache goes before it
// turns the cache on, and a TypeScript file loaded then would start Node's type stripper (about
// 20 ms of every command) only to find the cache it keeps the stripped code in not on yet.
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `directory`, made if missing (0700), when it is a directory this user owns on which no one else
 * has any of the `othersMay` permission bits; else undefined (another owner, others' access, a
 * symbolic link, or it cannot be made).
 * @param {string} directory
 * @param {number} othersMay
 * @returns {string | undefined}
 */
function usableAlone(directory, othersMay) {
  const uid = process.getuid?.();
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const found = lstatSync(directory);
    if (!found.isDirectory() || (uid !== undefined && (found.uid !== uid || (found.mode & othersMay) !== 0))) return undefined;
    return directory;
  } catch {
    return undefined;
  }
}

/**
 * The temporary directory is shared by every user of the machine, and what the sequencer keeps
 * there is named by hashes of public inputs: another user could plant an answer (a stage's params)
 * or compiled code. So it lives in a directory of this user's own, which only they may read or
 * write; a directory of that name that is not so is not used at all, and the answer is undefined.
 * @returns {string | undefined}
 */
export const ownDirectory = () => usableAlone(join(tmpdir(), `codepipeline-sequencer-${process.getuid?.() ?? 'user'}`), 0o077);

/**
 * A directory of the user's own directory (`name`), or undefined when there is no own directory or
 * this one is not the user's alone to write: while the own directory was open to others, even for
 * a moment, one of them could have put a directory of their own in its place.
 * @param {string} name
 * @returns {string | undefined}
 */
export function ownSubdirectory(name) {
  const own = ownDirectory();
  return own === undefined ? undefined : usableAlone(join(own, name), 0o022);
}

/**
 * Where Node keeps the code it compiles for this user's commands: NODE_COMPILE_CACHE when the user
 * names a place, else a directory of their own, else undefined (no cache): compiled code another
 * user planted in a shared cache would run as this user, so the cache is never put in one.
 * @returns {string | undefined}
 */
export const compileCacheDirectory = () => process.env.NODE_COMPILE_CACHE || ownSubdirectory('compile-cache');
