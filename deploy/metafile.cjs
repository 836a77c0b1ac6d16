'use strict';
// Reading the metafile esbuild writes: which of its outputs a function loads.

/**
 * The outputs `entry` loads, itself included, following the imports `follows` accepts (every
 * one by default: what it may load, at once or with import()). An import of something outside
 * the build (a Node builtin, an external package) names no output and leads nowhere.
 */
function reachableOutputs(outputs, entry, follows = () => true) {
  const reachable = new Set();
  const visit = (path) => {
    if (reachable.has(path) || !outputs[path]) return;
    reachable.add(path);
    for (const item of outputs[path].imports) if (follows(item)) visit(item.path);
  };
  visit(entry);
  return reachable;
}

module.exports = { reachableOutputs };
