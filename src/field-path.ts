// How refusals name fields, without zod: the command line names them before it loads any schema.

/** A key written bare in a path: what pipeline, variable and field names are made of. */
const bareKey = /^[A-Za-z0-9_.@-]+$/;

/**
 * `order[1]`, `variables.P1.ENV`: the way a user would point at the field. Any other key is a JSON
 * string in brackets (`variables.P1["X\n"]`), so that a message stays one line and carries no
 * terminal escape, whatever the input holds.
 */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    const name = String(key);
    if (!bareKey.test(name)) return `${text}[${JSON.stringify(name)}]`;
    return text === '' ? name : `${text}.${name}`;
  }, '');
}

/**
 * How deeply objects and arrays may nest in anything a handler parses. The deepest real input
 * (`variables.P1.ENV` inside a handler's event) is 4 levels; a far deeper one is hostile, and
 * would overflow the stack of a recursive validator, so it is refused before anything recurses.
 */
export const maxNestingDepth = 32;

/** The top-level field holding a value nested deeper than maxNestingDepth, walked without recursion. */
export function tooDeeplyNested(value: unknown): { field: PropertyKey | undefined } | undefined {
  const pending: { value: unknown; depth: number; field: PropertyKey | undefined }[] = [{ value, depth: 1, field: undefined }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > maxNestingDepth) return { field: next.field };
    for (const [key, child] of Object.entries(next.value)) {
      const field = next.field ?? (Array.isArray(next.value) ? Number(key) : key);
      pending.push({ value: child, depth: next.depth + 1, field });
    }
  }
  return undefined;
}

/**
 * The known name a typo most likely meant (`oder` → `order`, `dry_run` → `dryRun`): at most one
 * edit apart ignoring case, `-` and `_`, or two for a name of 6 or more characters.
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const fold = (name: string) => name.toLowerCase().replace(/[-_]/g, '');
  const allowed = fold(typed).length >= 6 ? 2 : 1;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(fold(typed), fold(name));
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Edits (insert, delete, replace, swap two neighbours) from one string to the other. */
function editDistance(from: string, to: string): number {
  const rows = Array.from({ length: from.length + 1 }, (_, i) => Array.from({ length: to.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= from.length; i++) {
    for (let j = 1; j <= to.length; j++) {
      const replace = from[i - 1] === to[j - 1] ? 0 : 1;
      rows[i]![j] = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + replace);
      if (i > 1 && j > 1 && from[i - 1] === to[j - 2] && from[i - 2] === to[j - 1]) rows[i]![j] = Math.min(rows[i]![j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[from.length]![to.length]!;
}
