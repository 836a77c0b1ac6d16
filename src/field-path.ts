// Without zod: the command line names fields in refusals before it loads any schema.

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
