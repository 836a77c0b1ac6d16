// On AWS, the cause Step Functions records for a Lambda Task that threw (in its history, in
// DescribeExecution, in the status-change event) is the runtime's JSON error document,
// {"errorType","errorMessage","trace"}, not the message (../shared/AWS-FACTS.md). Whatever shows
// a cause to a person (the alert, the command line) reads it through here.

/** Step Functions keeps at most this many characters of a cause (the API's length constraint). */
export const maxCauseLength = 32_768;

/**
 * The start of a Node.js runtime's error document, whose message may be cut short: a cause at the
 * length limit is no longer JSON, and its message is still the first thing in it.
 */
const cutDocument = /^\{"errorType":"((?:[^"\\]|\\.)*)","errorMessage":"((?:[^"\\]|\\.)*)/;

/** The type and message of a document cut at the length limit: a message cut too, to its last whole character and marked as cut. */
function fromCutDocument(cause: string): { errorType: string; errorMessage: string } | undefined {
  const match = cause.length >= maxCauseLength ? cutDocument.exec(cause) : null;
  if (!match) return undefined;
  const unescape = (text: string) => {
    // Drop an escape the cut split (`\`, `\u00`) before reading the rest as a JSON string.
    for (let end = text.length; end >= Math.max(0, text.length - 6); end -= 1) {
      try {
        return JSON.parse(`"${text.slice(0, end)}"`) as string;
      } catch {
        // shorter
      }
    }
    return '';
  };
  // Cut in the trace, the message is whole; cut in the message, it says so.
  const whole = cause[match[0].length] === '"';
  const message = unescape(match[2]!);
  return { errorType: unescape(match[1]!), errorMessage: whole ? message : `${message}… (cut: Step Functions keeps ${maxCauseLength} characters of a cause)` };
}

/** The error document in a cause, or undefined for a plain-text one (Step Functions' own, StopExecution's). */
export function lambdaErrorDocument(cause: string | null | undefined): { errorType?: string; errorMessage?: string } | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(cause ?? '');
  } catch {
    return fromCutDocument(cause ?? '');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const { errorType, errorMessage } = payload as { errorType?: unknown; errorMessage?: unknown };
  return {
    ...(typeof errorType === 'string' && { errorType }),
    ...(typeof errorMessage === 'string' && { errorMessage }),
  };
}

/** What a person reads of a cause: a Lambda error document's message, any other cause as it is. */
export function causeMessage(cause: string): string {
  const document = lambdaErrorDocument(cause);
  if (document === undefined || document.errorMessage === undefined) return cause;
  return document.errorMessage === '' ? `${document.errorType ?? 'an error'} with no message` : document.errorMessage;
}
