import { createRequire } from 'node:module';

/**
 * node:http for the ES modules of a command (bin/sequencer.js hands it to them; @middy/util is
 * one). Node's own ES module face of a built-in reads every export when it is first imported, the
 * lazy WebSocket, CloseEvent and MessageEvent among them, which load undici: 60 to 70 ms of CPU
 * in every command on a 2 GHz Xeon, for a fetch nothing in a run makes. This module requires it
 * instead and reads the rest; test/unit/node-http.test.ts holds the list to Node's.
 */
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export default http;
export const {
  _connectionListener,
  METHODS,
  STATUS_CODES,
  Agent,
  ClientRequest,
  IncomingMessage,
  OutgoingMessage,
  Server,
  ServerResponse,
  createServer,
  validateHeaderName,
  validateHeaderValue,
  get,
  request,
  setMaxIdleHTTPParsers,
  setGlobalProxyFromEnv,
  maxHeaderSize,
  globalAgent,
} = http as typeof http & { _connectionListener: unknown; setGlobalProxyFromEnv: unknown };
