import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LocalEngine, type RunReport } from '../local/engine.js';
import { UsageError, projectRoot } from '../local/stage.js';
import { loadWorld, WorldFileError, type World } from '../local/world.js';
import { serveStandalone } from '../local/emulator/index.js';
import { ProgressPrinter, palette, summary } from './format.js';

const usage = `Usage:
  sequencer run [--input JSON | --input-file FILE] [--world FILE] [--stage NAME] [--json]
      Run the sequencer once, offline: the real state machine and handlers against a local
      CodePipeline emulator, in simulated time. Default world: local/worlds/demo.json.
      Exit code: 0 SUCCEEDED, 1 FAILED, 2 bad command line or world file.
  sequencer emulator --world FILE [--port N]
      Serve the CodePipeline emulator alone, in wall time from the world's startTime, and print
      its endpoint (for AWS_ENDPOINT_URL_CODEPIPELINE). Ctrl-C stops it.`;

const defaultWorld = `${projectRoot}local/worlds/demo.json`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'run') return await run(rest);
    if (command === 'emulator') return await emulator(rest);
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      console.log(usage);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command '${command}'`);
  } catch (error) {
    if (error instanceof UsageError || error instanceof WorldFileError || isArgumentError(error)) {
      console.error(`sequencer: ${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    throw error;
  }
}

const isArgumentError = (error: unknown) =>
  typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      input: { type: 'string' },
      'input-file': { type: 'string' },
      world: { type: 'string' },
      stage: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.input !== undefined && values['input-file'] !== undefined) {
    throw new UsageError('give --input or --input-file, not both');
  }
  const input = readInput(values.input, values['input-file']);
  const worldPath = values.world ?? defaultWorld;
  const world: World = await loadWorld(worldPath);
  const engine = await LocalEngine.create({ world, ...(values.stage !== undefined ? { stage: values.stage } : {}) });
  const runStart = engine.clock.now();

  let report: RunReport;
  if (values.json) {
    report = await engine.run({ input });
    console.log(JSON.stringify(jsonReport(report), null, 2));
  } else {
    const colours = palette(Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
    const printer = new ProgressPrinter((line) => console.log(line), colours, runStart);
    console.log(
      colours.dim(`codepipeline-sequencer · local run · world ${worldPath.replace(projectRoot, '')} · simulated time from ${world.startTime}`),
    );
    report = await engine.run({ input, onEvent: (event) => printer.on(event) });
    for (const line of summary(report, colours, runStart)) console.log(line);
  }
  await engine.emulator.close();
  return report.status === 'SUCCEEDED' ? 0 : 1;
}

/** The documented --json shape: world executions carry the fields users rely on, and the variables each was started with. */
function jsonReport(report: RunReport) {
  return {
    status: report.status,
    ...(report.status === 'FAILED' ? { error: report.error, cause: report.cause } : { output: report.output }),
    world: {
      executions: report.world.executions.map((execution) => ({
        pipelineName: execution.pipelineName,
        pipelineExecutionId: execution.pipelineExecutionId,
        status: execution.status,
        startedAt: execution.startedAt,
        finishedAt: execution.finishedAt,
        startedBy: execution.startedBy,
        variables: execution.variables,
      })),
    },
    generations: report.generations,
    redrives: report.redrives,
    stats: report.stats,
  };
}

function readInput(inline: string | undefined, file: string | undefined): unknown {
  if (inline === undefined && file === undefined) return {};
  let text: string;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --input-file ${file}: ${(error as Error).message}`);
    }
  } else {
    text = inline!;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file === undefined ? '--input' : file} is not valid JSON: ${(error as Error).message}`);
  }
}

async function emulator(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { world: { type: 'string' }, port: { type: 'string' } } });
  if (values.world === undefined) throw new UsageError('emulator needs --world FILE');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, got '${values.port}'`);
  }
  const server = await serveStandalone(values.world, port);
  console.log(`CodePipeline emulator listening on ${server.endpoint}`);
  console.log(`  export AWS_ENDPOINT_URL_CODEPIPELINE=${server.endpoint} AWS_ENDPOINT_URL_SFN=${server.endpoint}`);
  console.log('Ctrl-C stops it.');
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await server.close();
  return 0;
}
