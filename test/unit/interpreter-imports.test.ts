import { LambdaClient as RealLambdaClient, InvokeCommand as RealInvokeCommand } from '@aws-sdk/client-lambda';
import fc from 'fast-check';
import { JSONPath as RealJSONPath } from 'jsonpath-plus';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import aslValidator from '../../local/interpreter-imports/asl-validator.js';
import { InvokeCommand, LambdaClient } from '../../local/interpreter-imports/client-lambda.js';
import { JSONPath } from '../../local/interpreter-imports/jsonpath-plus.js';
import { projectRoot } from '../../local/stage.js';

const require = createRequire(import.meta.url);

describe('what the interpreter imports (local/interpreter-imports/)', () => {
  it('asl-validator, loaded on its first call, judges as the package does', () => {
    const valid = { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } };
    const invalid = { StartAt: 'Missing', States: { Done: { Type: 'Succeed' } } };

    expect(aslValidator(valid).isValid).toBe(true);
    const refused = aslValidator(invalid);
    expect(refused.isValid).toBe(false);
    expect(refused.errorsText('\n')).toMatch(/Missing/);
  });

  it("the Lambda client and command, built with new, are the SDK's own, with what they were given", async () => {
    const client = new LambdaClient({ region: 'eu-west-1' });
    const command = new InvokeCommand({ FunctionName: 'f', Payload: new Uint8Array([1]) });

    expect(client).toBeInstanceOf(RealLambdaClient);
    expect(await client.config.region()).toBe('eu-west-1');
    expect(command).toBeInstanceOf(RealInvokeCommand);
    expect(command.input).toEqual({ FunctionName: 'f', Payload: new Uint8Array([1]) });
    client.destroy();
  });

  describe('jsonpath-plus, called as the interpreter calls it: JSONPath({ path, json, wrap: false })', () => {
    // What the package's own call returns, or the error it throws.
    const outcome = (evaluate: () => unknown) => {
      try {
        return { value: evaluate() };
      } catch (error) {
        return { error: String(error) };
      }
    };
    const json = fc.jsonValue({ maxDepth: 3 });
    const key = fc.constantFrom('a', 'b', 'list', 'Payload', 'exists', '0', '1', 'missing');
    // Paths as a definition writes them (InputPath, Choice variables, `$$.` context paths), and
    // some the interpreter's own checks would refuse first.
    const path = fc.oneof(
      fc.constant('$'),
      fc.array(fc.oneof(key.map((name) => `.${name}`), fc.nat(3).map((index) => `[${index}]`), fc.constant('[*]'), fc.constant('..a')), { minLength: 1, maxLength: 4 }).map((steps) => `$${steps.join('')}`),
      fc.string({ maxLength: 8 }),
    );

    it('returns what the package returns, or throws what it throws, for any path over any JSON', () => {
      fc.assert(
        fc.property(path, json, (query, value) => {
          const viaStandIn = outcome(() => JSONPath({ path: query, json: value as never, wrap: false }));
          const viaPackage = outcome(() => RealJSONPath({ path: query, json: value as never, wrap: false }) as unknown);
          expect(viaStandIn).toEqual(viaPackage);
        }),
        { numRuns: 2000 },
      );
    });

    it('hands back scalars, nothing and null as they are, where the package throws and catches them', () => {
      const state = { count: 0, flag: false, name: '', nothing: null, list: [1], one: { a: 1 } };

      expect(JSONPath({ path: '$.count', json: state, wrap: false })).toBe(0);
      expect(JSONPath({ path: '$.flag', json: state, wrap: false })).toBe(false);
      expect(JSONPath({ path: '$.name', json: state, wrap: false })).toBe('');
      expect(JSONPath({ path: '$.nothing', json: state, wrap: false })).toBeNull();
      expect(JSONPath({ path: '$.missing', json: state, wrap: false })).toBeUndefined();
      expect(JSONPath({ path: '$.list', json: state, wrap: false })).toBe(state.list);
      expect(JSONPath({ path: '$.one', json: state, wrap: false })).toBe(state.one);
      expect(JSONPath({ path: '$.count', json: null, wrap: false })).toBeUndefined();
    });
  });

  describe("jest's resolver (test/resolver.cjs): the tests run the engine as the command runs it", () => {
    const resolver = require('../resolver.cjs') as (path: string, options: object) => string;
    const interpreterFolder = dirname(require.resolve('aws-local-stepfunctions'));
    const defaultResolver = (path: string) => `default:${path}`;

    it("hands the interpreter's ES module each stand-in the command line's hook hands it, from the same table", () => {
      const table = require('../../local/interpreter-imports/index.cjs') as Record<string, string>;

      for (const [specifier, file] of Object.entries(table)) {
        expect(resolver(specifier, { basedir: interpreterFolder, conditions: ['import', 'default'], defaultResolver })).toBe(join(projectRoot, 'local/interpreter-imports', file));
      }
      expect(Object.keys(table).sort()).toEqual(['@aws-sdk/client-lambda', 'asl-validator', 'jsonpath-plus']);
    });

    it("leaves every other import alone: a require from the interpreter's folder (a stand-in's own), another importer, another package", () => {
      expect(resolver('jsonpath-plus', { basedir: interpreterFolder, conditions: ['require', 'default'], defaultResolver })).toBe('default:jsonpath-plus');
      expect(resolver('jsonpath-plus', { basedir: join(projectRoot, 'node_modules/asl-validator/dist/src'), conditions: ['import'], defaultResolver })).toBe('default:jsonpath-plus');
      expect(resolver('zod', { basedir: interpreterFolder, conditions: ['import'], defaultResolver })).toBe('default:zod');
    });
  });
});
