/** Which role each function runs with, as serverless.yml gives it (the three in the state machine share the default). */
export const roleOfFunction: Record<string, string> = {
  decideOrder: 'IamRoleLambdaExecution',
  startPipeline: 'IamRoleLambdaExecution',
  checkStatus: 'IamRoleLambdaExecution',
  pipelineEvent: 'PipelineEventRole',
  sweeper: 'SweeperRole',
};

type Statement = { Action: string | string[] };
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** The actions a role of a packaged template may take: its own statements, and those of the managed policies attached to it. */
export function actionsAllowed(template: Template, roleId: string): Set<string> {
  const role = template.Resources[roleId]!.Properties as { Policies?: { PolicyDocument: { Statement: Statement[] } }[] };
  const attached = Object.values(template.Resources)
    .filter((resource) => resource.Type === 'AWS::IAM::ManagedPolicy')
    .map((policy) => policy.Properties as { Roles?: unknown[]; PolicyDocument: { Statement: Statement[] } })
    .filter((policy) => JSON.stringify(policy.Roles ?? []).includes(JSON.stringify({ Ref: roleId })));
  return new Set([...(role.Policies ?? []), ...attached].flatMap((policy) => policy.PolicyDocument.Statement.flatMap((statement) => [statement.Action].flat())));
}
