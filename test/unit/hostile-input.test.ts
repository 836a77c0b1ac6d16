import 'aws-sdk-client-mock-jest';
import { CodePipelineClient, GetPipelineCommand, StartPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { core } from '../../handlers/decide-order.js';
import { useClock } from '../../src/clock.js';
import { execution, useStageConfig } from '../support/fixtures.js';

/**
 * Whatever arrives as execution input, decide-order either returns a valid plan or refuses it
 * with InvalidInput / PipelineNotAllowed whose message starts with the offending field; it
 * never throws anything unnamed, and nothing is ever started.
 */
const codePipeline = mockClient(CodePipelineClient);
const stepFunctions = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev';
const startTime = '2026-01-01T00:00:00.000Z';
const allowed = ['P1', 'P2', 'P3', 'Deploy.API@eu', 'x'.repeat(100)];

const name = fc.oneof(
  fc.constantFrom(...allowed, '', ' ', 'P 1', 'x'.repeat(101), '__proto__', 'constructor', 'prototype', 'toString', 'P1\u0000', 'Ünïcødé', '💥', '../P1'),
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const variables = fc.dictionary(
  name,
  fc.oneof(fc.dictionary(fc.oneof(name, fc.string({ maxLength: 130 })), fc.oneof(fc.string({ maxLength: 1001 }), anyJson), { maxKeys: 55 }), anyJson),
  { maxKeys: 4 },
);
const input = fc.oneof(
  anyJson,
  fc.record(
    {
      order: fc.oneof(fc.array(name, { maxLength: 105 }), anyJson),
      sequence: fc.oneof(fc.constantFrom('release', 'hotfix', 'constructor', '__proto__', 'toString'), fc.string({ maxLength: 70 }), anyJson),
      variables: fc.oneof(variables, anyJson),
      dryRun: fc.oneof(fc.boolean(), anyJson),
      onSuperseded: fc.oneof(fc.constantFrom('follow', 'fail'), anyJson),
      pipelineTimeoutSeconds: fc.oneof(fc.integer({ min: -10, max: 40_000_000 }), fc.double(), anyJson),
      [fc.sample(fc.constantFrom('oder', 'Order', 'extra'), 1)[0]!]: anyJson,
    },
    { requiredKeys: [] },
  ),
  // JSON.parse keeps these keys as own properties, as Step Functions' input would.
  fc.constantFrom('{"__proto__": {"order": ["P1"]}}', '{"variables": {"P1": {"__proto__": "x"}}}', '{"constructor": {"prototype": 1}}').map((text) => JSON.parse(text) as unknown),
  // Payloads near Step Functions' 256 KiB limit.
  fc.integer({ min: 1, max: 5 }).map((pipelines) => ({
    order: allowed.slice(0, pipelines),
    variables: Object.fromEntries(
      allowed.slice(0, pipelines).map((pipeline) => [pipeline, Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`V${index}`, 'v'.repeat(1000)]))]),
    ),
  })),
);

beforeEach(() => {
  codePipeline.reset();
  stepFunctions.reset();
  useStageConfig({ pipelines: allowed });
  useClock({ now: () => Date.parse(startTime) });
  // Each pipeline declares V0 to V49 with defaults: the large payloads below use them, and decide-order refuses undeclared ones.
  const declared = Array.from({ length: 50 }, (_, index) => ({ name: `V${index}`, defaultValue: 'd' }));
  codePipeline
    .on(GetPipelineCommand)
    .callsFake(({ name: pipeline }) => ({ pipeline: { name: pipeline, pipelineType: 'V2', roleArn: 'r', stages: [], variables: declared } }));
  stepFunctions.on(ListExecutionsCommand).resolves({ executions: [] });
});

it('turns 1,000+ hostile inputs into a valid plan or a named refusal that names the field, starting nothing', async () => {
  const field = '(input|order|sequence|variables|dryRun|onSuperseded|pipelineTimeoutSeconds)\\b';
  // One problem reads `field: why`; several are numbered, each naming its field.
  const fieldPattern = new RegExp(`^(${field}|\\d+ problems: 1\\) ${field}.*; 2\\) ${field})`);
  let refused = 0;
  let planned = 0;

  await fc.assert(
    fc.asyncProperty(input, async (value) => {
      try {
        const { plan } = await core({ input: value, execution: { ...execution, stateMachineArn, startTime }, retryCount: 0, redriveCount: 0 });
        planned += 1;
        expect(plan.order.length).toBeGreaterThan(0);
        expect(new Set(plan.order).size).toBe(plan.order.length);
        for (const pipeline of plan.order) expect(allowed).toContain(pipeline);
        expect(Buffer.byteLength(JSON.stringify(plan))).toBeLessThanOrEqual(200 * 1024);
        // Nothing the user sent is silently dropped (JSON text keeps keys a copy might lose).
        expect(JSON.stringify(plan.variables)).toBe(JSON.stringify((value as { variables?: unknown }).variables ?? {}));
      } catch (error) {
        refused += 1;
        expect(error).toBeInstanceOf(Error);
        expect(['InvalidInput', 'PipelineNotAllowed']).toContain((error as Error).name);
        expect((error as Error).message).toMatch(fieldPattern);
      }
      expect(codePipeline).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
    }),
    { numRuns: 1200, seed: 20261126 },
  );

  expect(planned + refused).toBe(1200);
  expect(planned).toBeGreaterThan(20);
  expect(refused).toBeGreaterThan(600);
});
