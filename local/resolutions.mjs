// JavaScript, not TypeScript: bin/sequencer.js opens it before it turns Node's compile cache on
// (./own-directory.mjs says why that matters).
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownSubdirectory } from './own-directory.mjs';

/**
 * @typedef {{ url: string, format?: string | null }} Resolution
 * @typedef {{ get(key: string): (Resolution & { shortCircuit: true }) | undefined, set(key: string, resolved: Resolution): void }} Resolutions
 */

/** What a cache that keeps nothing answers. @type {Resolutions} */
const keepsNothing = { get: () => undefined, set: () => undefined };

/**
 * Where each package a command imports was found, kept for the next command. Node works out a
 * package's file anew in every process (its package.json, its exports, a stat of each candidate):
 * about 900 resolutions, a tenth of the CPU of a `sequencer run`. Only resolutions into
 * node_modules are kept, and they are kept in a file named by a hash of what they depend on: the
 * Node version and the installed packages (npm rewrites node_modules/.package-lock.json at every
 * install), so an upgrade or a reinstall starts a new file, never answers from a stale one. The
 * project's own files are not kept: they move as a user edits them, and are quick to find.
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
  const name = createHash('sha256').update(JSON.stringify([1, process.version, root, installed.mtimeMs, installed.size])).digest('hex');
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
      return typeof kept?.url === 'string' ? { url: kept.url, format: kept.format, shortCircuit: true } : undefined;
    },
    set(key, resolved) {
      if (!resolved.url.startsWith('file:') || !resolved.url.includes('/node_modules/')) return;
      found[key] = { url: resolved.url, format: resolved.format };
      anyFound = true;
    },
  };
}
