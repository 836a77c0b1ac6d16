import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { BuildOptions, Plugin } from 'esbuild';
import { parse } from 'yaml';
import { projectRoot } from '../local/stage.js';

/** Keys of custom.esbuild that serverless-esbuild keeps for itself and never hands to esbuild (its bundle.ts). */
const pluginOnlyKeys = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'plugins',
];

/**
 * Keys left out because serverless.yml sets them through a variable only `sls package` resolves:
 * `define` writes the stage config into the bundle (deploy/stage-config.cjs). Without it the
 * bundle reads STAGE_CONFIG from the environment, which is how tests and the bench hand it over.
 */
const packageTimeKeys = ['define'];

/**
 * The esbuild options `sls package` uses, derived from serverless.yml the way serverless-esbuild
 * derives them (its defaults, the runtime's target, then `custom.esbuild`, minus the plugin's
 * own keys, with `plugins` loaded from their file), so what the bench measures and the package
 * test runs is the bundle deployed, even after someone edits the config.
 */
export function slsPackageOptions(): BuildOptions {
  const service = parse(readFileSync(`${projectRoot}serverless.yml`, 'utf8')) as {
    provider: { runtime: string };
    custom?: { esbuild?: Record<string, unknown> };
  };
  const runtimeTarget = /^nodejs(\d+)\.x$/.exec(service.provider.runtime)?.[1];
  const merged: Record<string, unknown> = {
    bundle: true,
    platform: 'node',
    external: [],
    exclude: ['aws-sdk'],
    outputFileExtension: '.js',
    ...(runtimeTarget ? { target: `node${runtimeTarget}` } : {}),
    ...service.custom?.esbuild,
  };
  const esbuildOptions = Object.fromEntries(
    Object.entries(merged).filter(([key]) => !pluginOnlyKeys.includes(key) && !packageTimeKeys.includes(key)),
  );
  const exclude = merged.exclude as string[];
  const plugins =
    typeof merged.plugins === 'string'
      ? (createRequire(import.meta.url)(`${projectRoot}${merged.plugins}`) as Plugin[])
      : ((merged.plugins as Plugin[] | undefined) ?? []);
  return {
    ...(esbuildOptions as BuildOptions),
    absWorkingDir: projectRoot,
    plugins,
    external: [...(merged.external as string[]), ...(exclude.includes('*') ? [] : exclude)],
    ...(merged.outputFileExtension !== '.js' ? { outExtension: { '.js': merged.outputFileExtension as string } } : {}),
  };
}
