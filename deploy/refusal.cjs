'use strict';
// A stage that cannot be packaged, refused while sls resolves serverless.yml's variables. osls
// prints a rejected resolver's `error.stack`: a stack of the message alone keeps the refusal to
// its own lines, without fifteen lines of osls's internals after them.
function stageRefusal(message) {
  const error = new Error(message);
  error.stack = message;
  return error;
}

module.exports = { stageRefusal };
