import { createHash } from 'node:crypto';

/**
 * A pipeline execution id shaped like CodePipeline's ([0-9a-f]{8}-[0-9a-f]{4}-...), derived
 * from what the execution is rather than from chance, so two runs of one world give the same ids.
 */
export function executionIdFor(identity: string): string {
  const hex = createHash('sha256').update(identity).digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join('-');
}
