import { createRequire } from 'node:module';
import * as standIn from '../../local/node-http.js';

describe('node:http as the command hands it to an ES module (local/node-http.ts)', () => {
  it('has every export of Node’s node:http but the three that load undici', () => {
    const http = createRequire(import.meta.url)('node:http') as Record<string, unknown>;

    const named = Object.keys(standIn).filter((name) => name !== 'default');

    // A Node that adds an export fails here, rather than an importer of it at link time.
    expect([...named, 'WebSocket', 'CloseEvent', 'MessageEvent'].sort()).toEqual(Object.keys(http).sort());
    expect(standIn.STATUS_CODES[404]).toBe('Not Found');
    expect(Object.keys(standIn.default)).toEqual(Object.keys(http));
  });
});
