import type * as jsonpath from 'jsonpath-plus';
import { interpreterRequire } from '../interpreter.js';

/**
 * jsonpath-plus for aws-local-stepfunctions (index.cjs says why), resolved from the interpreter's
 * own place as its import would be.
 */
const { JSONPath: RealJSONPath } = interpreterRequire('jsonpath-plus') as typeof jsonpath;

/** The one shape the interpreter calls it with: `jp({ path, json, wrap: false })`. */
interface Query {
  path: string;
  json: jsonpath.JSONPathOptions['json'];
  wrap: boolean;
}

/**
 * What `JSONPath(query)` returns. jsonpath-plus constructs itself, evaluates, and throws the result
 * when it is not an object, to return it from its catch. With `autostart: false` it only
 * constructs itself; the same evaluation of the same arguments then returns the result directly.
 */
export function JSONPath(query: Query): unknown {
  const { path, json } = query;
  return RealJSONPath({ ...query, autostart: false }).evaluate({ path, json } as Parameters<jsonpath.JSONPathClass['evaluate']>[0]);
}
