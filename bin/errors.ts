/**
 * The errors a command ends with, by exit code, in a module of their own: the command line
 * catches them without loading the SDK clients they are raised beside.
 */

/** Exit 2: nothing was done, because of the command line or the setup (region, credentials, access, endpoint, no such run). */
export class SetupProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupProblem';
  }
}

/**
 * Exit 2 for an option's value that cannot be right (`--name 'bad name!'`): a bad command line,
 * so it gets the usage hint a UsageError gets, while --json keeps calling it a SetupProblem.
 */
export class BadOption extends SetupProblem {}

/** Exit 3: refused on purpose, nothing was done: a run already in flight, nothing to stop or to redrive. */
export class Refused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Refused';
  }
}

/** Ctrl-C or SIGTERM while a call to AWS was in flight: exit 128 + the signal's number, with its message. */
export class Interrupted extends Error {
  readonly signalName: NodeJS.Signals;

  constructor(message: string, signalName: NodeJS.Signals) {
    super(message);
    this.name = 'Interrupted';
    this.signalName = signalName;
  }
}

/** Thrown for a run that cannot be found: exit 2 with its message. */
export class NothingToShow extends Error {}

/** Exit 2 with one line and no usage hint: a port already in use. */
export class CannotRun extends Error {}
