import { readFileSync } from 'node:fs';

/**
 * What a local run refuses before it starts, in a module of their own: the command line catches
 * them without loading the engine, the world's schema or serverless.yml's parser.
 */

/** Thrown for a command-line problem the user can fix: an unknown stage, an unreadable file. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

export class WorldFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorldFileError';
  }
}

/** A stage param in serverless.yml a run cannot go on with, named as `sls package` names it. */
export class StageParamsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StageParamsError';
  }
}

/**
 * A number as a person types one on the command line: digits, maybe with a decimal point. NaN
 * for anything else, so that the option's own rule refuses it: Number() would also take `0x200`,
 * `1e3`, `' 600'` or an empty string (0), none of which a person means as seconds or a port.
 */
export const typedNumber = (text: string): number => (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN);

/**
 * What a refusal of typedNumber's NaN adds when the text is a number in another form (`1e9`,
 * `0x200`, `' 600'`): that it must be written in digits, and how, since the rule's range alone
 * would say the value is out of it.
 */
export const inDigits = (text: string): string => {
  const meant = Number(text);
  // A negative one is refused for its sign, which digits would not mend.
  return Number.isNaN(typedNumber(text)) && text.trim() !== '' && Number.isFinite(meant) && meant >= 0 ? ` (written in digits only: ${meant})` : '';
};

/** A file's text without the byte-order mark an editor's "UTF-8 with BOM" puts first: still the JSON the user wrote, which JSON.parse refuses with it. */
const withoutByteOrderMark = (text: string): string => text.replace(/^\uFEFF/, '');

/** A file named on the command line (`--input-file`, `--world`) as messages name it: `-` is stdin. */
export const fileLabel = (path: string): string => (path === '-' ? '- (stdin)' : path);

/** The text of a file named on the command line, `-` for stdin, without a byte-order mark; fails as readFileSync does. */
export const readCommandLineFile = (path: string): string => withoutByteOrderMark(readFileSync(path === '-' ? 0 : path, 'utf8'));
