import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Finding = { Filename: string | null; Level: string; Message: string; Rule: { Id: string } };

/**
 * What cfn-lint finds in each of these templates, in one run: starting Python and cfn-lint is
 * most of a run (one template took 3.3 s of CPU here, three in one run 4.4 s).
 */
export async function lintTogether(files: string[]): Promise<Record<string, Finding[]>> {
  let stdout: string;
  let failure: unknown;
  try {
    ({ stdout } = await run('cfn-lint', ['--format', 'json', ...files]));
  } catch (error) {
    // cfn-lint exits non-zero as soon as it finds anything, and still prints its findings.
    failure = error;
    stdout = (error as { stdout?: string }).stdout ?? '';
  }
  const findings = (stdout.trim().startsWith('[') ? JSON.parse(stdout) : []) as Finding[];
  const unplaced = findings.filter((finding) => !files.includes(finding.Filename ?? ''));
  // A run that failed without a finding in one of the templates (a crash, a bad argument) fails every template.
  if (unplaced.length > 0) throw new Error(`cfn-lint found problems outside the templates: ${JSON.stringify(unplaced)}`);
  if ((failure as { code?: unknown } | undefined)?.code === 'ENOENT') {
    throw new Error('cfn-lint is not on the PATH: the template tests lint what `sls package` writes with it. Install it with `pip install cfn-lint` (or `pipx install cfn-lint`)');
  }
  if (failure && findings.length === 0) throw failure;
  return Object.fromEntries(files.map((file) => [file, findings.filter((finding) => finding.Filename === file)]));
}
