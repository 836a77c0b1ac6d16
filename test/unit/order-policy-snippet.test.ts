import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import ts from 'typescript';
import * as errors from '../../src/errors.js';
import type { OrderDecision, OrderRequest } from '../../src/order-policy.js';

/**
 * The README's "Changing the order logic" example, applied to the real src/order-policy.ts the
 * way a reader would paste it (its lines replace the function's opening; the rest of the body is
 * kept), must typecheck, and must do what the README says on the world it says to try it with.
 */
const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const policyPath = new URL('src/order-policy.ts', root).pathname;
const policy = readFileSync(policyPath, 'utf8');

const section = readme.slice(readme.indexOf('## Changing the order logic'));
const snippet = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
const pasted = snippet.slice(0, snippet.indexOf('  // ...'));
const opening = /export function chooseOrder\([^\n]*\n[^\n]*\n/.exec(policy)!;
const edited = policy.replace(opening[0], pasted);

describe('the README order-logic example', () => {
  it('keeps the real function’s first rule (an explicit order wins) as it is in the module', () => {
    expect(pasted.split('\n')[1]).toBe(opening[0].split('\n')[1]);
  });

  it('typechecks inside the real module', () => {
    // Prepare: the project's compiler options, the edited module served in place of the file.
    const configFile = ts.readConfigFile(new URL('tsconfig.json', root).pathname, (path) => ts.sys.readFile(path));
    const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root.pathname);
    const host = ts.createCompilerHost(options);
    const readOriginal = host.readFile.bind(host);
    host.readFile = (path) => (path === policyPath ? edited : readOriginal(path));

    // Act
    const program = ts.createProgram({ rootNames: [policyPath], options: { ...options, noEmit: true }, host });
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));

    // Assess
    expect(edited).not.toBe(policy);
    expect(problems).toEqual([]);
  });

  it('runs rollback on the Monday of the world the README says to try it with, and the default otherwise', () => {
    // Prepare
    const world = /--world (local\/worlds\/[\w.-]+\.json)/.exec(section)![1]!;
    const startTime = (JSON.parse(readFileSync(new URL(world, root), 'utf8')) as { startTime: string }).startTime;
    const js = ts.transpileModule(edited, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const exports: { chooseOrder?: (request: OrderRequest) => OrderDecision } = {};
    runInNewContext(js, { exports, require: (id: string) => (id === './errors.js' ? errors : {}), structuredClone });
    const request = (now: string): OrderRequest => ({
      input: {},
      sequences: { release: ['P1', 'P2', 'P3'], rollback: ['P3', 'P2', 'P1'] },
      defaultSequence: 'release',
      now: new Date(now),
    });

    // Act
    const onTheWorldsDay = exports.chooseOrder!(request(startTime));
    const onAThursday = exports.chooseOrder!(request('2026-01-01T09:00:00Z'));

    // Assess
    expect(onTheWorldsDay).toEqual({ order: ['P3', 'P2', 'P1'], source: 'sequence:rollback' });
    expect(onAThursday).toEqual({ order: ['P1', 'P2', 'P3'], source: 'default:release' });
    expect(section).toContain("order decided: P3 → P2 → P1 (sequence 'rollback')");
  });
});
