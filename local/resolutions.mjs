// JavaScript, not TypeScript: bin/sequencer.js opens it before it turns Node's compile cache on
// (./own-directory.mjs says why that matters).
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ownSubdirectory } from './own-directory.mjs';

/**
 * @typedef {{ url: string, format?: string | null }} Resolution
 * @typedef {{ get(key: string): (Resolution & { shortCircuit: true }) | undefined, set(key: string, resolved: Resolution): void }} Resolutions
 */

/**
 * Node's command-line flags, without the code of an -e or -p (which names no resolution).
 * @param {string[]} execArgv
 * @returns {string[]}
 */
function nodeFlags(execArgv) {
  const flags = [];
  for (let index = 0; index < execArgv.length; index++) {
    const flag = execArgv[index];
    if (['-e', '--eval', '-p', '--print'].includes(flag)) index++;
    else if (!/^--(eval|print)=/.test(flag)) flags.push(flag);
  }
  return flags;
}

/** What a cache that keeps nothing answers. @type {Resolutions} */
const keepsNothing = { get: () => undefined, set: () => undefined };

/**
 * Where each package a command imports was found, kept for the next command. Node works out a
 * package's file anew in every process (its package.json, its exports, a stat of each candidate):
 * about 900 resolutions, a tenth of the CPU of a `sequencer run`. Only resolutions into the
 * project's own node_modules are kept, and they are kept in a file named by a hash of what they
 * depend on: the Node version, Node's options (--preserve-symlinks, NODE_PATH and the like change
 * what a specifier names) and the installed packages (npm rewrites node_modules/.package-lock.json
 * at every install), so an upgrade or a reinstall starts a new file. A kept file that is gone (a
 * package changed by other means) is looked up anew. Not kept: the project's own files, which move
 * as a user edits them and are quick to find, and packages found outside its node_modules (a
 * linked package, whose own installs npm's file of the project does not see).
 * Like the compile cache, it lives in the user's own directory (./own-directory.mjs): a planted
 * answer would load another file as this user. Without that directory, nothing is kept.
 * @param {URL} projectUrl the project's root
 * @returns {Resolutions}
 */
export function resolutionCache(projectUrl) {
  const root = fileURLToPath(projectUrl);
  let installed;
  try {
    installed = statSync(join(root, 'node_modules', '.package-lock.json'));
  } catch {
    return keepsNothing;
  }
  const directory = ownSubdirectory('resolutions');
  if (directory === undefined) return keepsNothing;
  const options = [nodeFlags(process.execArgv), process.env.NODE_OPTIONS ?? '', process.env.NODE_PATH ?? ''];
  const name = createHash('sha256').update(JSON.stringify([2, process.version, options, root, installed.mtimeMs, installed.size])).digest('hex');
  const packages = pathToFileURL(join(root, 'node_modules', '/')).href;
  const file = join(directory, name);
  const read = () => {
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8'));
      return typeof kept === 'object' && kept !== null && !Array.isArray(kept) ? kept : {};
    } catch {
      return {};
    }
  };
  /** @type {Record<string, Resolution>} */
  const known = read();
  /** @type {Record<string, Resolution>} */
  const found = {};
  let anyFound = false;
  // Written once, as the command ends, merged with what other commands kept meanwhile: beside its
  // place under a name no other writer uses, then renamed, so a reader finds a whole file or none.
  process.on('exit', () => {
    if (!anyFound) return;
    const partial = `${file}.${randomUUID()}.partial`;
    try {
      writeFileSync(partial, JSON.stringify({ ...read(), ...found }));
      renameSync(partial, file);
    } catch {
      try {
        unlinkSync(partial);
      } catch {
        // Nothing was written.
      }
    }
  });
  return {
    get(key) {
      const kept = Object.hasOwn(known, key) ? known[key] : undefined;
      if (typeof kept?.url !== 'string' || !kept.url.startsWith(packages) || !existsSync(fileURLToPath(kept.url))) return undefined;
      return { url: kept.url, format: kept.format, shortCircuit: true };
    },
    set(key, resolved) {
      if (!resolved.url.startsWith(packages)) return;
      found[key] = { url: resolved.url, format: resolved.format };
      anyFound = true;
    },
  };
}
