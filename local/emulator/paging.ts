import type { AwsServiceError } from './errors.js';

/**
 * Pages through a list by remembering the key of the last item served, not its position:
 * new executions appear at the front of a newest-first list while a caller is paging.
 */
export function paginate<Item>(options: {
  items: readonly Item[];
  keyOf: (item: Item) => string;
  maxResults: number;
  nextToken: string | undefined;
  invalidToken: () => AwsServiceError;
}): { page: Item[]; nextToken?: string } {
  const { items, keyOf, maxResults, nextToken } = options;
  let first = 0;
  if (nextToken !== undefined) {
    const lastServedKey = decodeToken(nextToken);
    const lastServedIndex = items.findIndex((item) => keyOf(item) === lastServedKey);
    if (lastServedIndex === -1) throw options.invalidToken();
    first = lastServedIndex + 1;
  }
  const page = items.slice(first, first + maxResults);
  const last = page.at(-1);
  const hasMore = first + maxResults < items.length;
  return hasMore && last !== undefined ? { page, nextToken: encodeToken(keyOf(last)) } : { page };
}

function encodeToken(lastServedKey: string): string {
  return Buffer.from(JSON.stringify({ lastServedKey })).toString('base64url');
}

function decodeToken(token: string): string | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof decoded === 'object' && decoded !== null && 'lastServedKey' in decoded) {
      return typeof decoded.lastServedKey === 'string' ? decoded.lastServedKey : undefined;
    }
  } catch {
    // Not one of ours: the caller reports it as the service's invalid-token error.
  }
  return undefined;
}
