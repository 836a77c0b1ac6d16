import fc from 'fast-check';
import { checkExecutionInputSize, parseJsonInput, repeatedKey } from '../../bin/cli.js';

describe('an input given on the command line, as JSON', () => {
  it.each([
    ['at the top', '{"order":["P1"],"order":["P2"]}', ['order']],
    ['in a nested object', '{"variables":{"P1":{"A":"1","B":"2","A":"3"}}}', ['variables', 'P1', 'A']],
    ['in an object inside arrays', '[1, [2, {"k": 1, "k": 2}]]', [1, 1, 'k']],
    ['spelled with an escape', '{"\\u0061": 1, "a": 2}', ['a']],
    ['holding a quote', '{"a\\"b": 1, "a\\"b": 2}', ['a"b']],
    ['ending in a backslash', '{"a\\\\": 1, "a\\\\": 2}', ['a\\']],
    ['after strings that hold braces, commas and colons', '{"x": "{,}:[", "y": ["}", ","], "x": 1}', ['x']],
  ])('finds a key given twice %s', (_, text, path) => {
    expect(repeatedKey(text)).toEqual(path);
  });

  it.each([
    ['the same key in two objects', '{"a": {"k": 1}, "b": {"k": 2}}'],
    ['the same key at two levels', '{"k": {"k": 1}}'],
    ['a value that looks like a key', '{"a": "a", "b": "a"}'],
    ['an array of objects', '[{"k": 1}, {"k": 2}]'],
    ['no object at all', '"text"'],
  ])('finds none in %s', (_, text) => {
    expect(repeatedKey(text)).toBeUndefined();
  });

  it('finds none in any JSON that JSON.stringify writes, and a repeat of any of its keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.nat(), (object, pick) => {
        const text = JSON.stringify(object);
        const keys = Object.keys(object);
        const key = keys[pick % keys.length]!;
        const repeated = `${text.slice(0, -1)},${JSON.stringify(key)}:null}`;

        expect(repeatedKey(text)).toBeUndefined();
        expect(repeatedKey(repeated)).toEqual([key]);
      }),
      { numRuns: 500 },
    );
  });

  it('reads an input nested 100,000 deep in one pass', () => {
    const deep = `${'['.repeat(100_000)}{"k":1,"k":2}${']'.repeat(100_000)}`;

    const path = repeatedKey(deep);

    expect(path).toHaveLength(100_001);
    expect(path!.at(-1)).toBe('k');
  });

  it('leaves an input too deep to write out to the input check, which refuses it by name', () => {
    let deep: unknown = [];
    for (let level = 0; level < 100_000; level += 1) deep = [deep];

    expect(() => checkExecutionInputSize({ order: ['P1'], deep }, '--input')).not.toThrow();
    expect(() => checkExecutionInputSize({ order: ['P1'], padding: 'x'.repeat(262_144) }, '--input')).toThrow(
      expect.objectContaining({ name: 'UsageError', message: expect.stringContaining('Step Functions takes an execution input of at most 262,144') }),
    );
  });

  it('refuses the repeat by name, and says when the text is not JSON', () => {
    expect(() => parseJsonInput('{"order":["P1"],"order":["P2"]}', '--input')).toThrow(
      expect.objectContaining({ name: 'UsageError', message: '--input: order is given twice; give it once' }),
    );
    expect(() => parseJsonInput('{"order":', '--input-file x.json')).toThrow(expect.objectContaining({ message: expect.stringMatching(/^--input-file x\.json is not valid JSON: /) }));
    expect(parseJsonInput('{"order":["P1"]}', '--input')).toEqual({ order: ['P1'] });
  });
});
