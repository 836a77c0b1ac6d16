import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { isTimeZone, scheduleExpressionProblem, stageParamProblems } from '../../src/stage-params.js';

/** serverless.yml's own defaults: what every stage starts from. */
const defaults = (parse(readFileSync('serverless.yml', 'utf8')) as { params: { default: Record<string, unknown> } }).params.default;
const stage = 'prod';
const ownPipelines = { pipelines: ['build-api', 'deploy-api', 'smoke-tests'], sequences: { release: ['build-api', 'deploy-api', 'smoke-tests'] } };
const problems = (overrides: Record<string, unknown>, own: string[] = []) => stageParamProblems(stage, { ...defaults, ...ownPipelines, ...overrides }, own);

describe('stage params checked at package time', () => {
  it("accepts serverless.yml's defaults in dev, and in any stage with its own pipelines", () => {
    expect(stageParamProblems('dev', defaults, Object.keys(defaults))).toEqual([]);
    expect(problems({})).toEqual([]);
  });

  it.each([
    ['scheduleRetryAttempts', 500, 'params.prod.scheduleRetryAttempts is 500: must be a whole number from 0 to 185 (EventBridge Scheduler)'],
    ['scheduleMaxEventAgeSeconds', 30, 'params.prod.scheduleMaxEventAgeSeconds is 30: must be a whole number from 60 to 86400 (EventBridge Scheduler)'],
    ['scheduleTimezone', 'Mars/Olympus', 'params.prod.scheduleTimezone is "Mars/Olympus": must be an IANA time zone name such as UTC or Europe/Paris'],
    [
      'scheduleRate',
      'every day',
      'params.prod.scheduleRate is "every day": must be rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)',
    ],
    ['notifyOnSuccess', 'true', 'params.prod.notifyOnSuccess is "true": must be true or false (a YAML boolean, not a string)'],
    ['logLevel', 'DEBUG', 'params.prod.logLevel is "DEBUG": must be one of ALL, ERROR, FATAL, OFF'],
    ['scheduleWhenBusy', 'queue', 'params.prod.scheduleWhenBusy is "queue": must be one of skip, fail'],
    ['pollSeconds', 0, 'params.prod.pollSeconds is 0: must be at least 1'],
    ['onSuperseded', 'ignore', `params.prod.onSuperseded is "ignore": must be 'follow' or 'fail'`],
    ['onFailure', 'retry', `params.prod.onFailure is "retry": must be 'fail' or 'wait'`],
    // The sweeper's schedule is a rate in whole minutes: 90 s would pass here and fail the stack's template.
    ['sweepSeconds', 90, 'params.prod.sweepSeconds is 90: must be a multiple of 60 from 60 to 3600: the sweeper runs on a rate in whole minutes'],
    ['sweepSeconds', 30, 'params.prod.sweepSeconds is 30: must be a multiple of 60 from 60 to 3600: the sweeper runs on a rate in whole minutes'],
  ])('refuses %s: %j in one line naming the param and what it allows', (name, value, line) => {
    expect(problems({ [name]: value })).toEqual([line]);
  });

  it('refuses a sequence that names a pipeline the stage does not allow', () => {
    expect(problems({ sequences: { release: ['build-api', ['deploy-api', 'P9']] } })).toContain(
      `params.prod.sequences is {"release":["build-api",["deploy-api","P9"]]}: sequence 'release' names P9, not in this stage's pipelines (build-api, deploy-api, smoke-tests, from params.prod)`,
    );
  });

  it('tells a stage with pipelines of its own and default\'s sequences, once, to give it sequences of its own', () => {
    // Prepare: prod names its pipelines and nothing else, as Deploy step 1 has it.
    const ownerOf = (name: string) => (name === 'pipelines' ? stage : 'default');

    // Act
    const found = stageParamProblems(stage, { ...defaults, pipelines: ownPipelines.pipelines }, ['pipelines'], { ownerOf });

    // Assess: one line for the three sequences; the schedule's 'release' is told by it.
    expect(found).toEqual([
      `params.default.sequences is ${JSON.stringify(defaults.sequences)}: sequence 'release' names P1, P2, P3; 'rollback' names P3, P2, P1; 'hotfix' names P2, P3, P1, not in this stage's pipelines (build-api, deploy-api, smoke-tests, from params.prod); stage 'prod' takes its sequences from params.default: give it its own, params.prod.sequences`,
    ]);
  });

  it('tells a stage whose sequences lack the default sequence it takes from default to set its own', () => {
    // Prepare: prod's own pipelines and sequences, without a 'release'.
    const own = { pipelines: ownPipelines.pipelines, sequences: { deploy: ['build-api', 'deploy-api'] } };
    const ownerOf = (name: string) => (Object.hasOwn(own, name) ? stage : 'default');

    // Act
    const found = stageParamProblems(stage, { ...defaults, ...own }, Object.keys(own), { ownerOf });

    // Assess: the schedule's input, default's too, runs that missing sequence as well.
    expect(found).toEqual([
      expect.stringMatching(/^params\.default\.defaultSequence is "release": .*; stage 'prod' takes its defaultSequence from params\.default: give it its own, params\.prod\.defaultSequence$/),
      expect.stringMatching(/^params\.default\.scheduleInput is \{"sequence":"release"\}: sequence: 'release' is not a sequence of this stage; .*give it its own, params\.prod\.scheduleInput$/),
    ]);
  });

  it('a misspelt pipelines: the example pipelines are said to come from default, which the stage did not mean to take', () => {
    // Prepare
    const ownerOf = (name: string) => (name === 'pipeline' ? stage : 'default');

    // Act
    const found = stageParamProblems(stage, { ...defaults, pipeline: ownPipelines.pipelines }, ['pipeline'], { ownerOf });

    // Assess
    expect(found).toEqual([
      expect.stringMatching(/^params\.prod\.pipeline is not a param \(did you mean pipelines\?\)/),
      "stage 'prod' takes its pipelines from params.default, which holds the example pipelines P1, P2, P3: give the stage its own pipelines and sequences, or set params.prod.allowExamplePipelines: true if it really means pipelines of those names",
    ]);
  });

  it('refuses a retention CloudWatch Logs does not offer, listing the ones it does', () => {
    expect(problems({ logRetentionInDays: 10 })).toEqual([expect.stringMatching(/^params\.prod\.logRetentionInDays is 10: must be one of CloudWatch Logs' 1, 3, 5, 7, 14, 30, .*3653$/)]);
  });

  it('checks scheduleInput with the execution input schema, then against the stage’s own sequences and pipelines', () => {
    expect(problems({ scheduleInput: { sequence: 'nope', typo: 1 } })).toEqual([
      expect.stringMatching(/^params\.prod\.scheduleInput is \{"sequence":"nope","typo":1\}: unknown field "typo"; the fields are order, sequence, .*; it must be an input/),
    ]);
    expect(problems({ scheduleInput: { sequence: 'nope' } })).toEqual([
      expect.stringContaining("params.prod.scheduleInput is {\"sequence\":\"nope\"}: sequence: 'nope' is not a sequence of this stage; the sequences are release"),
    ]);
    expect(problems({ scheduleInput: { order: ['build-api', 'P9'] } })).toEqual([expect.stringContaining("P9 not in this stage's pipelines (build-api, deploy-api, smoke-tests, from params.prod)")]);
    expect(problems({ scheduleInput: { variables: { 'smoke-tests': { ENV: 'prod' } }, order: ['build-api'] } })).toEqual([
      expect.stringContaining('smoke-tests not in the order it runs (build-api)'),
    ]);
    expect(problems({ scheduleInput: { sequence: 'release', scheduled: { whenBusy: 'skip' } } })).toEqual([expect.stringContaining("'scheduled' is written by the stack")]);
    expect(problems({ scheduleInput: { sequence: 'release', variables: { 'deploy-api': { ENV: 'prod' } } } })).toEqual([]);
  });

  it('refuses a stage other than dev that still allows the example pipelines, unless it says it means them', () => {
    const examples = { pipelines: ['P1', 'P2', 'P3'], sequences: defaults.sequences };

    expect(problems(examples)).toEqual([
      'params.prod.pipelines still holds the example pipelines P1, P2, P3: give the stage its own pipelines and sequences, or set params.prod.allowExamplePipelines: true if it really means pipelines of those names',
    ]);
    expect(problems({ ...examples, allowExamplePipelines: true })).toEqual([]);
    expect(stageParamProblems('dev', { ...defaults, ...examples })).toEqual([]);
  });

  it('names every problem of the stage config at once, not the first only', () => {
    expect(problems({ completion: 'event', sweepSeconds: 90 })).toEqual([
      `params.prod.completion is "event": must be 'events' or 'poll'`,
      'params.prod.sweepSeconds is 90: must be a multiple of 60 from 60 to 3600: the sweeper runs on a rate in whole minutes',
    ]);
  });

  it('names the rules between params beside the shape problems, each with the other param’s value and whose it is', () => {
    // Prepare: qa sets its own pipelines, sequences and three wrong params; pollSeconds (30) and defaultSequence ('release') come from default.
    const own = { pipelines: ['build-api', 'deploy-api'], sequences: { deploy: ['build-api', 'P9'] }, maxPollSeconds: 5, onFailure: 'retry', logLevel: 'DEBUG' };
    const ownerOf = (name: string) => (Object.hasOwn(own, name) ? 'qa' : 'default');

    // Act
    const found = stageParamProblems('qa', { ...defaults, ...own }, Object.keys(own), { ownerOf });

    // Assess: onFailure's shape no longer hides the rules between maxPollSeconds and pollSeconds, defaultSequence and sequences, sequences and pipelines.
    expect(found).toEqual([
      `params.qa.onFailure is "retry": must be 'fail' or 'wait'`,
      'params.qa.maxPollSeconds is 5: must be at least pollSeconds (30, from params.default)',
      `params.default.defaultSequence is "release": 'release' is not one of the sequences (deploy, from params.qa); stage 'qa' takes its defaultSequence from params.default: give it its own, params.qa.defaultSequence`,
      'params.qa.logLevel is "DEBUG": must be one of ALL, ERROR, FATAL, OFF',
      `params.qa.sequences is {"deploy":["build-api","P9"]}: sequence 'deploy' names P9, not in this stage's pipelines (build-api, deploy-api, from params.qa)`,
      `params.default.scheduleInput is {"sequence":"release"}: sequence: 'release' is not a sequence of this stage; the sequences are deploy; it must be an input the state machine accepts in this stage (README, Input); stage 'qa' takes its scheduleInput from params.default: give it its own, params.qa.scheduleInput`,
    ]);
  });

  it('checks what it still can when a param the rules read is broken: the schedule\'s input shape, a sequence\'s groups', () => {
    // Prepare: pipelines is not a list, so no rule that reads it can be checked; the rest still can.
    const sequences = { release: ['build-api', ['deploy-api']] };

    // Act
    const found = problems({ pipelines: 'build-api', sequences, scheduleInput: { sequence: 'release', typo: 1 } });

    // Assess
    expect(found).toEqual([
      'params.prod.pipelines is "build-api": must be a list of pipeline names',
      `params.prod.sequences is ${JSON.stringify(sequences)}: sequence 'release'[1]: a group runs 2 to 10 pipelines at the same time; this one has 1`,
      expect.stringMatching(/^params\.prod\.scheduleInput is \{"sequence":"release","typo":1\}: unknown field "typo"/),
    ]);
  });

  it('refuses a sequence decide-order would refuse: a group of one, a pipeline twice', () => {
    const sequences = { release: ['build-api', ['deploy-api']], rollback: ['smoke-tests', 'smoke-tests'] };

    expect(problems({ sequences, defaultSequence: 'release' })).toEqual([
      `params.prod.sequences is ${JSON.stringify(sequences)}: sequence 'release'[1]: a group runs 2 to 10 pipelines at the same time; this one has 1`,
      `params.prod.sequences is ${JSON.stringify(sequences)}: sequence 'rollback'[1]: 'smoke-tests' appears twice; each pipeline runs once per run`,
    ]);
  });

  it('names a param it does not know, and every problem at once', () => {
    expect(problems({ scheduleRetryAttempts: 500, tracing: 'yes' }, ['notifyOnSucess'])).toEqual([
      expect.stringMatching(/^params\.prod\.notifyOnSucess is not a param \(did you mean notifyOnSuccess\?\); the params are pipelines, .*notifyOnSuccess/),
      'params.prod.tracing is "yes": must be true or false (a YAML boolean, not a string)',
      'params.prod.scheduleRetryAttempts is 500: must be a whole number from 0 to 185 (EventBridge Scheduler)',
    ]);
  });

  it('names each problem as the stage’s own param or default’s, when the caller says whose each is (a local run)', () => {
    // Prepare: prod sets pollSeconds and a typo itself; the bad scheduleRate and sweepSeconds come from default.
    const ownerOf = (name: string) => (['pollSeconds', 'pollSecnds'].includes(name) ? 'prod' : 'default');

    // Act
    const lines = problems({ pollSeconds: 0, scheduleRate: 'every day', sweepSeconds: 90 }, ['pollSecnds']);
    const named = stageParamProblems(stage, { ...defaults, ...ownPipelines, pollSeconds: 0, scheduleRate: 'every day', sweepSeconds: 90 }, ['pollSecnds'], { ownerOf });

    // Assess: the same problems, each under its owner.
    expect(named).toEqual(lines.map((line) => (/^params\.prod\.(pollSeconds|pollSecnds) /.test(line) ? line : line.replace('params.prod.', 'params.default.'))));
    expect(named).toEqual([
      expect.stringMatching(/^params\.prod\.pollSecnds is not a param \(did you mean pollSeconds\?\)/),
      'params.prod.pollSeconds is 0: must be at least 1',
      'params.default.sweepSeconds is 90: must be a multiple of 60 from 60 to 3600: the sweeper runs on a rate in whole minutes',
      expect.stringMatching(/^params\.default\.scheduleRate is "every day": must be rate\(value unit\)/),
    ]);
  });

  it('leaves the example-pipelines rule out for pipelines that are not real (a local run’s world), and only that rule', () => {
    const examples = { pipelines: ['P1', 'P2', 'P3'], sequences: defaults.sequences };

    expect(stageParamProblems(stage, { ...defaults, ...examples }, [], { realPipelines: false })).toEqual([]);
    expect(stageParamProblems(stage, { ...defaults, ...examples, logLevel: 'DEBUG' }, [], { realPipelines: false })).toEqual([
      'params.prod.logLevel is "DEBUG": must be one of ALL, ERROR, FATAL, OFF',
    ]);
  });
});

describe('schedule expressions, as EventBridge Scheduler takes them', () => {
  it.each(['rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'rate(2 days)', 'cron(0 6 ? * MON-FRI *)', 'cron(0/15 8-17 ? * 2-6 *)', 'cron(0 12 L * ? 2027)', 'cron(30 9 ? * 6#3 *)', 'at(2027-03-01T06:00:00)'])(
    'accepts %s',
    (expression) => {
      expect(scheduleExpressionProblem(expression)).toBeUndefined();
    },
  );

  it.each([
    ['rate(every day)', 'must be rate(value unit)'],
    ['rate(1 days)', 'the unit is singular for 1 only'],
    ['rate(5 minute)', 'the unit is singular for 1 only'],
    ['rate(0 minutes)', 'a rate must be at least 1'],
    ['cron(0 6 * * MON-FRI *)', '? in exactly one of day-of-month and day-of-week'],
    ['cron(0 6 ? * MON-FRI)', 'cron() takes 6 fields'],
    ['cron(61 6 ? * MON-FRI *)', "minutes '61' is not 0-59"],
    ['cron(0 6 ? * MON-FRY *)', "day-of-week 'MON-FRY' is not 1-7 or SUN-SAT"],
    ['at(2027-02-30T06:00:00)', 'at() holds no real date and time'],
    ['at(2027-03-01 06:00)', 'must be rate(value unit)'],
  ])('refuses %s: %s', (expression, problem) => {
    expect(scheduleExpressionProblem(expression)).toContain(problem);
  });
});

describe('time zones', () => {
  // Canonical names, and aliases that are not on Intl's list of them (US/Pacific).
  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'US/Pacific', 'Asia/Kolkata'])('accepts %s', (zone) => expect(isTimeZone(zone)).toBe(true));
  it.each(['Mars/Olympus', '+01:00', '', 'Europe/Paris '])('refuses %j', (zone) => expect(isTimeZone(zone)).toBe(false));
});

describe("the package's check (deploy/stage-params.cjs), as sls loads it", () => {
  // A child Node, as sls is: each way of loading src/stage-params.ts, and which loader it took.
  // prod's own params set two wrong: each refusal names prod's param, where it is written.
  const prodOwn = { ...ownPipelines, pollSeconds: 0, logLevel: 'DEBUG' };
  const params = { ...defaults, ...prodOwn };
  const checkInChild = async (nodeOptions: string[]) => {
    const script = `
      const { checkStageParams } = require('./deploy/stage-params.cjs');
      const params = ${JSON.stringify(params)};
      const variables = { 'sls:stage': 'prod', 'self:params': { default: ${JSON.stringify(defaults)}, prod: ${JSON.stringify(prodOwn)} } };
      checkStageParams(async (name) => (name.startsWith('param:') ? params[name.slice(6)] : variables[name])).then(
        () => console.log(JSON.stringify({ refused: false })),
        (error) => console.log(JSON.stringify({ refused: error.message.split('\\n'), tsx: Object.keys(require.cache).some((file) => file.includes('/node_modules/tsx/')) })),
      );`;
    const { stdout } = await promisify(execFile)(process.execPath, [...nodeOptions, '-e', script]);
    return JSON.parse(stdout) as { refused: string[] | false; tsx: boolean };
  };

  it('loads the rules with Node itself, without tsx, and refuses a stage with one line per problem', async () => {
    const { refused, tsx } = await checkInChild([]);

    expect(tsx).toBe(false);
    expect(refused).toEqual([
      "stage 'prod' cannot be packaged:",
      '- params.prod.pollSeconds is 0: must be at least 1',
      '- params.prod.logLevel is "DEBUG": must be one of ALL, ERROR, FATAL, OFF',
    ]);
  });

  it('falls back to tsx on a Node that does not run TypeScript, and refuses with the same lines', async () => {
    const native = await checkInChild([]);

    const throughTsx = await checkInChild(['--no-experimental-strip-types']);

    expect(throughTsx.tsx).toBe(true);
    expect(throughTsx.refused).toEqual(native.refused);
  });
});
