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

/** Exit 3: refused on purpose, nothing was done: a run already in flight, nothing to stop or to redrive. */
export class Refused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Refused';
  }
}

/** Thrown for a run that cannot be found: exit 2 with its message. */
export class NothingToShow extends Error {}

/** Exit 2 with one line and no usage hint: a port already in use. */
export class CannotRun extends Error {}
