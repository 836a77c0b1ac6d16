// On AWS, the cause Step Functions records for a Lambda Task that threw (in its history, in
// DescribeExecution, in the status-change event) is the runtime's JSON error document,
// {"errorType","errorMessage","trace"}, not the message (../shared/AWS-FACTS.md). Whatever shows
// a cause to a person (the alert, the command line) reads it through here.

/** The error document in a cause, or undefined for a plain-text one (Step Functions' own, StopExecution's). */
export function lambdaErrorDocument(cause: string | null | undefined): { errorType?: string; errorMessage?: string } | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(cause ?? '');
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const { errorType, errorMessage } = payload as { errorType?: unknown; errorMessage?: unknown };
  return {
    ...(typeof errorType === 'string' && { errorType }),
    ...(typeof errorMessage === 'string' && { errorMessage }),
  };
}

/** What a person reads of a cause: a Lambda error document's message, any other cause as it is. */
export const causeMessage = (cause: string): string => lambdaErrorDocument(cause)?.errorMessage ?? cause;
