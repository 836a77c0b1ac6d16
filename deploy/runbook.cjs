'use strict';
/** Where each alarm and the notifications send a person: README.md's runbook section. */
const runbook = 'README.md, section Runbook (under Operating on AWS)';

module.exports = { runbook };
