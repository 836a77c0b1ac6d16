/**
 * AWS list prices, us-east-1, on-demand, no free tier, read on 2026-11-26 from
 * https://aws.amazon.com/step-functions/pricing/ and https://aws.amazon.com/lambda/pricing/.
 * They change rarely; when they do, change them here and the date with them.
 */
export const pricesReadOn = '2026-11-26';
/** Standard workflows: $0.025 per 1,000 state transitions. */
const usdPerStateTransition = 0.025 / 1000;
/** Lambda: $0.20 per million requests, both architectures. */
const usdPerLambdaRequest = 0.2 / 1_000_000;
/** Lambda duration on Arm (arm64), first tier. */
const usdPerArmGbSecond = 0.0000133334;

/** serverless.yml: memorySize 256, architecture arm64. */
const lambdaMemoryGb = 256 / 1024;
/**
 * An assumption, not a measurement: a warm invocation spends ~50-100 ms waiting on one or two
 * CodePipeline calls, and since August 2025 a cold start's INIT (~250 ms here, see cold start)
 * is billed too. 150 ms is a middle. Lambda is a small share of every policy's cost anyway:
 * one state transition costs as much as ~35 invocations.
 */
export const assumedBilledSecondsPerInvocation = 0.15;

export interface Usage {
  stateTransitions: number;
  lambdaInvocations: number;
}

/**
 * DynamoDB on demand, us-east-1: $0.625 per million write request units, $0.125 per million
 * read (the November 2024 prices). Every completion-table request is priced as a write: an upper
 * bound, since about half are reads (GetItem, Scan).
 */
const usdPerDynamoRequest = 0.625 / 1_000_000;

/** What completion: events adds to a run: event-function invocations, sweeps and table requests. */
export interface CompletionUsage {
  eventInvocations: number;
  sweeps: number;
  dynamoRequests: number;
}

export function completionCostUsd({ eventInvocations, sweeps, dynamoRequests }: CompletionUsage): number {
  return costUsd({ stateTransitions: 0, lambdaInvocations: eventInvocations + sweeps }) + dynamoRequests * usdPerDynamoRequest;
}

/**
 * The sweeper's standing cost per month, whatever runs: one invocation and one Scan of the
 * (small) table every sweepSeconds, 30 days.
 */
export function sweeperMonthlyUsd(sweepSeconds: number): number {
  const sweeps = (30 * 86_400) / sweepSeconds;
  return completionCostUsd({ eventInvocations: 0, sweeps, dynamoRequests: sweeps });
}

export function costUsd({ stateTransitions, lambdaInvocations }: Usage): number {
  return (
    stateTransitions * usdPerStateTransition +
    lambdaInvocations * usdPerLambdaRequest +
    lambdaInvocations * assumedBilledSecondsPerInvocation * lambdaMemoryGb * usdPerArmGbSecond
  );
}
