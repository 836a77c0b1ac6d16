/** CodePipeline's own rules (API reference: PipelineName, PipelineVariable, ClientRequestToken). */
export const pipelineNamePattern = /^[A-Za-z0-9.@\-_]{1,100}$/;
export const variableNamePattern = /^[A-Za-z0-9@\-_]{1,128}$/;
export const maxVariableValueLength = 1000;
export const maxVariablesPerExecution = 50;
export const maxPipelinesPerRun = 100;
export const sequenceNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
