import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** Every HTTP request this process starts from now on, by the host it goes to, until `stop()`: what went through a socket. */
export function recordRequestHosts(): { hosts: string[]; stop(): void } {
  const hosts: string[] = [];
  const onRequest = (message: unknown) => hosts.push(String((message as { request: ClientRequest }).request.getHeader('host')));
  subscribe('http.client.request.start', onRequest);
  return { hosts, stop: () => unsubscribe('http.client.request.start', onRequest) };
}
