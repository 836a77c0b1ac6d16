import type { OperationFault } from '../world.js';
import { AwsServiceError } from './errors.js';

// AWS answers these with their own statuses (ConflictException's is in the model); everything else a world injects is a 400.
const defaultHttpStatusByError: Record<string, number> = { InternalFailure: 500, ServiceUnavailable: 503, ConflictException: 409 };

/** Answers the next `count` matching calls with the world's error, or late, or both, in world-file order. */
export class FaultInjector {
  private readonly faults: readonly OperationFault[];
  private readonly remainingCounts: number[];

  constructor(faults: readonly OperationFault[]) {
    this.faults = faults;
    this.remainingCounts = faults.map((fault) => fault.count);
  }

  take(operation: string, input: Record<string, unknown>): { error?: AwsServiceError; latencyMs?: number } | undefined {
    const pipelineName = targetPipelineName(input);
    const index = this.faults.findIndex(
      (fault, candidate) =>
        this.remainingCounts[candidate]! > 0 &&
        fault.operation === operation &&
        (fault.pipelineName === undefined || fault.pipelineName === pipelineName),
    );
    const fault = this.faults[index];
    if (fault === undefined) return undefined;
    this.remainingCounts[index]! -= 1;
    const latency = fault.latencyMs !== undefined ? { latencyMs: fault.latencyMs } : {};
    if (fault.error === undefined) return latency;
    const httpStatus = fault.httpStatus ?? defaultHttpStatusByError[fault.error] ?? 400;
    return { ...latency, error: new AwsServiceError(fault.error, `${fault.error} injected by the world file`, httpStatus) };
  }
}

/** StartPipelineExecution, GetPipeline and GetPipelineState call it `name`; the others `pipelineName`. */
function targetPipelineName(input: Record<string, unknown>): string | undefined {
  const name = input.pipelineName ?? input.name;
  return typeof name === 'string' ? name : undefined;
}
