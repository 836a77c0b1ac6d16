/**
 * The settings every SDK client of the functions is made with (region, endpoint and credentials
 * come from the SDK's own configuration: AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>, the role).
 * - Retries: 4 attempts in standard mode absorb a throttling burst in about a second, well inside
 *   the functions' timeouts; what still fails is retried by the state machine with longer backoff.
 * - cacheMiddleware: the client resolves its middleware stack once per command, not at every call.
 *   Nothing of ours changes a client's middleware after its first call (the local engine adds its
 *   own before it, local/sdk-clients.ts); a test that does turns the cache off for that client.
 *   Side by side, a call answered in process took about 0.8 x the CPU with it.
 */
export const clientSettings = { maxAttempts: 4, retryMode: 'standard', cacheMiddleware: true } as const;
