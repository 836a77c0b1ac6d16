import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileCacheDirectory } from '../../local/own-directory.mjs';

const run = promisify(execFile);

// The sls this checkout installs, run by the Node that runs the tests, as `npx sls` would run it
// without npm's own start first (about 0.4 s of CPU at every call).
const sls = realpathSync('node_modules/.bin/sls');

const compileCache = compileCacheDirectory();
const env = {
  ...process.env,
  SLS_TELEMETRY_DISABLED: '1',
  // Most of a package's CPU is Node compiling the framework's and the plugins' modules, the same
  // at every call: Node's compile cache (in this user's own place, as bin/sequencer.js uses it)
  // keeps them compiled from one call to the next, about 0.8 s each. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  ...(compileCache !== undefined && { NODE_COMPILE_CACHE: compileCache }),
};

/** What the service is made of: a copy of these packages as the checkout does. */
const serviceEntries = ['serverless.yml', 'package.json', 'tsconfig.json', 'deploy', 'handlers', 'src', 'statemachines', 'types'];

/**
 * A copy of the service (and of the given files of it) in a temporary folder, with the checkout's
 * node_modules: serverless-esbuild builds in a folder of the service, so packages in two copies
 * may run at once.
 */
export function copyOfService(from = '.', files: string[] = []): string {
  const service = mkdtempSync(join(tmpdir(), 'sequencer-service-'));
  for (const entry of [...serviceEntries, ...files]) cpSync(join(from, entry), join(service, entry), { recursive: true });
  symlinkSync(realpathSync(join(from, 'node_modules')), join(service, 'node_modules'), 'dir');
  return service;
}

export type Packaged<Template> = { directory: string; file: string; template: Template };

type Options = { cwd?: string; config?: string };

/** `sls package --stage <stage>` into `.serverless-<stage>` of the service, and the template it wrote. */
export async function slsPackage<Template>(stage: string, { cwd = '.', config }: Options = {}): Promise<Packaged<Template>> {
  const directory = join(cwd, `.serverless-${stage}`);
  await run(process.execPath, [sls, 'package', '--stage', stage, '--package', directory, ...(config ? ['--config', config] : [])], { env, cwd });
  const file = join(directory, 'cloudformation-template-update-stack.json');
  return { directory, file, template: JSON.parse(readFileSync(file, 'utf8')) as Template };
}

/**
 * What `sls package --stage <stage>` prints when it refuses the stage; throws if it packages it.
 * In a copy of the service of its own, so that it may run beside other packages.
 */
export async function slsRefusal(stage: string, { cwd = '.', config }: Options = {}): Promise<string> {
  const service = copyOfService(cwd, config ? [config] : []);
  try {
    await slsPackage(stage, { cwd: service, config });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    return String(stderr) + String(stdout);
  } finally {
    rmSync(service, { recursive: true, force: true });
  }
  throw new Error(`sls package --stage ${stage} succeeded, and should not have`);
}
