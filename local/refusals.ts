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
