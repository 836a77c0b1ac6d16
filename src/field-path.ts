// How refusals name fields, without zod: the command line names them before it loads any schema.

/**
 * Characters a terminal shows as nothing, or as a space: a name holding one reads as its lookalike
 * (`"P1\u200b"` shown as `"P1"`). Unicode's default-ignorable characters (zero-width ones,
 * direction marks, variation selectors, fillers), the format characters, every space but the plain
 * one, and the blank braille pattern. JSON.stringify escapes only the control characters.
 */
const unseen = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Zl}\p{Zp}\p{Zs}\u2800]/gu;

/** Text as a refusal quotes it: a JSON string, one line, with every character that does not show escaped (`"P1\u200B"`). */
export const quoted = (text: string): string =>
  JSON.stringify(text).replace(unseen, (character) =>
    character === ' ' ? character : [...Array(character.length).keys()].map((at) => `\\u${character.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')}`).join(''),
  );

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
    if (!bareKey.test(name)) return `${text}[${quoted(name)}]`;
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
  // Only objects and arrays are pushed, in three parallel stacks: a handler walks its whole input on every call.
  const values: object[] = [];
  const depths: number[] = [];
  const fields: (PropertyKey | undefined)[] = [];
  if (typeof value === 'object' && value !== null) {
    values.push(value);
    depths.push(1);
    fields.push(undefined);
  }
  while (values.length > 0) {
    const next = values.pop()!;
    const depth = depths.pop()!;
    const field = fields.pop();
    if (depth > maxNestingDepth) return { field };
    const isArray = Array.isArray(next);
    const keys = isArray ? undefined : Object.keys(next);
    const count = keys?.length ?? (next as unknown[]).length;
    for (let index = 0; index < count; index++) {
      const child: unknown = keys ? (next as Record<string, unknown>)[keys[index]!] : (next as unknown[])[index];
      if (typeof child !== 'object' || child === null) continue;
      values.push(child);
      depths.push(depth + 1);
      fields.push(field ?? (keys ? keys[index] : index));
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
