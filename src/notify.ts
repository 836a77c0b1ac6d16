import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod/mini';
import { clientSettings } from './client-settings.js';
import { ConfigurationError } from './errors.js';
import { lambdaErrorDocument } from './lambda-cause.js';
import { describeExecution } from './stepfunctions.js';

/**
 * A run's end, told to a person: handlers/notify-run.ts gets EventBridge's "Step Functions
 * Execution Status Change" event and publishes the text this module writes to the stage's topic.
 * Plain text only: a Lambda error's cause is a JSON document with a stack trace, so the error's
 * name and plain message are taken out of it, and the pipeline and its execution id out of the
 * message the sequencer wrote.
 */

/** Created once; AWS_ENDPOINT_URL_SNS redirects it in tests. */
export const sns = new SNSClient(clientSettings);

/** The event as AWS documents it; only what the message needs is read, and AWS may add fields. */
export const statusChangeEventSchema = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  source: z.literal('aws.states'),
  region: z.string(),
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    name: z.string(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    output: z.optional(z.nullable(z.string())),
    outputDetails: z.optional(z.nullable(z.object({ included: z.boolean() }))),
    error: z.optional(z.nullable(z.string())),
    cause: z.optional(z.nullable(z.string())),
    redriveCount: z.optional(z.number()),
  }),
});

export type StatusChangeEvent = z.infer<typeof statusChangeEventSchema>;

export interface NotifierConfig {
  topicArn: string;
  service: string;
  stage: string;
}

/** The notifier's environment, read once and checked (serverless.yml sets it). */
export function notifierConfig(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const read = (name: string) => {
    const value = env[name];
    if (!value) throw new ConfigurationError(`${name} is not set: deploy with serverless.yml, which sets it`);
    return value;
  };
  return { topicArn: read('NOTIFICATION_TOPIC_ARN'), service: read('SERVICE_NAME'), stage: read('STAGE_NAME') };
}

export interface Notification {
  subject: string;
  message: string;
}

/** The error's name and its plain message, out of a cause that may be Lambda's JSON error payload. */
export function plainError(error: string | null | undefined, cause: string | null | undefined): { name: string; message: string } {
  let name = error || 'none given';
  let message = cause ?? '';
  const document = lambdaErrorDocument(cause);
  if (document) {
    if (document.errorType && name === 'none given') name = document.errorType;
    message = document.errorMessage ?? 'Step Functions gave a cause with no message';
  }
  // A stack trace pasted into a message ("    at handler (file.ts:3:5)") is for the logs, not for a person.
  message = message
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { name, message: message || 'Step Functions gave no cause' };
}

/**
 * The pipeline a failure's message names, and its execution id: the sequencer writes
 * `P2 (position 2 of 3) execution <id> ended Failed: ...` for a pipeline's own end and
 * `(the run was at position 2 of 3: P2 execution <id> (InProgress))` for anything else (src/run.ts).
 */
export function pipelineNamed(message: string): string | undefined {
  const found = /([A-Za-z0-9.@_-]{1,100})( \(position \d+ of \d+[^)]*\))? execution ([A-Za-z0-9-]+)(?: \((position \d+ of \d+)\))?/.exec(message);
  if (!found) return calledAbout(message);
  const [, pipeline, where, executionId, whereAfter] = found;
  const position = where ? where.trim().slice(1, -1) : (whereAfter ?? /\bat (position \d+ of \d+)/.exec(message)?.[1]);
  return `${pipeline}${position ? ` (${position})` : ''}, execution ${executionId}`;
}

/**
 * A failure before any execution of the pipeline: the CodePipeline call it failed on names it
 * (`StartPipelineExecution P2: ... (the run was about to start position 2 of 3)`, `GetPipeline
 * deploy-prod: ...` while the order was checked).
 */
function calledAbout(message: string): string | undefined {
  const called = /^(StartPipelineExecution|GetPipeline) ([A-Za-z0-9.@_-]{1,100})\b/.exec(message);
  if (!called) return undefined;
  const [, operation, pipeline] = called;
  if (operation === 'GetPipeline') return `${pipeline}, checked before any start (nothing was started)`;
  const position = /\babout to start (position \d+ of \d+)/.exec(message)?.[1];
  return `${pipeline}${position ? ` (${position})` : ''}, not started`;
}

/** The console's page for one execution, in the execution's partition. */
export function consoleLink(region: string, executionArn: string): string {
  const domain = region.startsWith('cn-')
    ? 'console.amazonaws.cn'
    : region.startsWith('us-gov-')
      ? 'console.amazonaws-us-gov.com'
      : `${region}.console.aws.amazon.com`;
  return `https://${domain}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

const endings: Record<string, string> = { FAILED: 'failed', TIMED_OUT: 'timed out', ABORTED: 'was stopped' };

/** SNS takes a subject of up to 100 printable ASCII characters, on one line. */
const subjectLimit = 100;
const printable = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');

/**
 * `<service> <stage>: run <name> <ending>`, within SNS's limit: a long run name (a schedule's or
 * an unnamed start's UUID) is shortened in its middle, so that the ending and the error's name,
 * what a reader of a list of subjects needs, are never cut.
 */
function subjectLine(config: Pick<NotifierConfig, 'service' | 'stage'>, runName: string, ending: string): string {
  const head = printable(`${config.service} ${config.stage}: run `);
  const tail = printable(` ${ending}`);
  const name = printable(runName);
  const room = subjectLimit - head.length - tail.length;
  if (name.length <= room) return `${head}${name}${tail}`;
  if (room < 10) return `${head}${name}${tail}`.slice(0, subjectLimit);
  const kept = room - 3;
  return `${head}${name.slice(0, Math.ceil(kept / 2))}...${name.slice(name.length - Math.floor(kept / 2))}${tail}`;
}

/** A summary at the end of a train: what SummariseRun writes, and no other SUCCEEDED execution does. */
interface TrainSummary {
  order: unknown[];
  source: string;
  pipelines: { pipelineName: string; status: string }[];
  generation: number;
}

function trainSummary(output: string | null | undefined): TrainSummary | undefined {
  try {
    const parsed = JSON.parse(output ?? 'null') as Partial<TrainSummary> | null;
    return parsed && Array.isArray(parsed.pipelines) && Array.isArray(parsed.order) ? (parsed as TrainSummary) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The message for a run's end, or undefined when there is nothing to tell: a SUCCEEDED execution
 * that handed the train over to its next execution, returned a dry run's plan, or skipped a
 * scheduled start. Only the execution that ends the train says it succeeded.
 */
export function notificationFor(event: StatusChangeEvent, config: Pick<NotifierConfig, 'service' | 'stage'>, output = event.detail.output): Notification | undefined {
  const { detail, region } = event;
  const run = `${config.service} on stage ${config.stage}: run ${detail.name}`;
  const footer = [`Execution: ${detail.executionArn}`, `Console:   ${consoleLink(region, detail.executionArn)}`];
  if (detail.status === 'SUCCEEDED') {
    const summary = trainSummary(output);
    if (!summary) return undefined;
    const ran = summary.pipelines.filter((pipeline) => pipeline.status !== 'Skipped').map((pipeline) => pipeline.pipelineName);
    const across = summary.generation > 1 ? ` across ${summary.generation} executions` : '';
    const from = summary.source.replace(/^(sequence|default):/, 'sequence ');
    return {
      subject: subjectLine(config, detail.name, 'succeeded'),
      message: [`${run} succeeded${across}.`, '', `Pipelines: ${ran.join(', ') || 'none (every entry was skipped)'} (${from})`, '', ...footer].join('\n'),
    };
  }
  const ending = endings[detail.status];
  if (!ending) return undefined;
  const error = plainError(detail.error, detail.cause);
  const status = `npx --no sequencer status --stage ${config.stage} --region ${region} --execution ${detail.name}`;
  const pipeline = pipelineNamed(error.message) ?? `none named (the cause does not say; \`${status}\` shows the failed state)`;
  return {
    subject: subjectLine(config, detail.name, `${ending} (${error.name})`),
    message: [
      `${run} ${ending}.`,
      '',
      `Pipeline:  ${pipeline}`,
      `Error:     ${error.name}`,
      `Message:   ${error.message}`,
      '',
      ...footer,
      'Runbook:   README.md, section Runbook (under Operating on AWS)',
    ].join('\n'),
  };
}

/** Publishes a run's end to the topic, if there is anything to tell; says what it did. */
export async function notifyRun(event: StatusChangeEvent, config: NotifierConfig): Promise<{ published: boolean; subject?: string }> {
  let output = event.detail.output;
  // A large output is left out of the event (outputDetails.included false): read it back.
  if (event.detail.status === 'SUCCEEDED' && event.detail.outputDetails?.included === false) {
    output = (await describeExecution(event.detail.executionArn)).output;
  }
  const notification = notificationFor(event, config, output);
  if (!notification) return { published: false };
  await sns.send(new PublishCommand({ TopicArn: config.topicArn, Subject: notification.subject, Message: notification.message }));
  return { published: true, subject: notification.subject };
}
