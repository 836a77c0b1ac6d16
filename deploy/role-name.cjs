'use strict';
// The functions' IAM role name, checked here because Serverless validates provider.iam.role.name
// against IAM's 64 characters before any plugin runs, with a message that names no stage.
// Every other name is checked on the finished template (deploy/stage-template.cjs).
const { stageRefusal } = require('./refusal.cjs');
const roleNameLimit = 64;

module.exports = {
  roleName: async ({ resolveVariable }) => {
    const [service, stage, region] = await Promise.all([resolveVariable('self:service'), resolveVariable('sls:stage'), resolveVariable('self:provider.region')]);
    const name = `${service}-${stage}-${region}`;
    if (name.length > roleNameLimit) {
      throw stageRefusal(
        `stage '${stage}' cannot be packaged in ${region}: the IAM role name '${name}' has ${name.length} characters; ` +
          `IAM allows ${roleNameLimit} (a stage name of at most ${roleNameLimit - (name.length - stage.length)} characters fits)`,
      );
    }
    return name;
  },
};
