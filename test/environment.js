import vm from 'node:vm';
import { TestEnvironment } from 'jest-environment-node';

/**
 * jest-environment-node, with the test file's context made as an ordinary global object.
 *
 * jest makes each file's context with vm.createContext(proxy): every global a module reads
 * (Object, Array, JSON, Symbol, Math...) then goes through V8's interceptor and a Proxy, not an
 * inline cache. The SDK, zod and the local engine read globals on every call, so the end-to-end
 * suite spent about a fifth of its CPU there. vm.constants.DONT_CONTEXTIFY (Node 22.8+) gives the
 * context an ordinary global: the same suite, run alternately both ways, takes 0.79 x the CPU.
 *
 * What it gives up: jest's proxy records the globals a test file sets, to delete them at teardown
 * and so free that file's memory early (testEnvironmentOptions.globalsCleanup acts on those, and
 * is a no-op here). Each file still gets a fresh context, and it is garbage once the file ends.
 */
export default class TestEnvironmentWithPlainGlobal extends TestEnvironment {
  constructor(config, context) {
    const { createContext } = vm;
    if (vm.constants?.DONT_CONTEXTIFY !== undefined) vm.createContext = () => createContext(vm.constants.DONT_CONTEXTIFY);
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
  }
}
