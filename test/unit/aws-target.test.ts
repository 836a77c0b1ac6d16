import { checkExecutionOption, deploymentRegion, setupProblemOf, targetOf } from '../../bin/aws.js';
import { SetupProblem } from '../../bin/errors.js';

/** Where the AWS commands look, and how they tell a setup problem: the choices a CI job depends on. */
describe('the AWS commands’ target', () => {
  it('defaults to the region a plain `sls deploy` uses: serverless.yml’s us-east-1', () => {
    expect(deploymentRegion()).toBe('us-east-1');
    expect(targetOf({}, {}).region).toBe('us-east-1');
  });

  it('takes --region over AWS_REGION, and AWS_REGION over the deployment’s default', () => {
    expect(targetOf({ region: 'eu-west-1' }, { AWS_REGION: 'ap-southeast-2' }).region).toBe('eu-west-1');
    expect(targetOf({}, { AWS_REGION: 'ap-southeast-2' }).region).toBe('ap-southeast-2');
  });

  it('knows a local emulator by its endpoint, and nothing else', () => {
    expect(targetOf({}, { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:4599' })).toMatchObject({ local: true, endpoint: 'http://127.0.0.1:4599' });
    expect(targetOf({}, { AWS_ENDPOINT_URL: 'http://localhost:4599/' }).local).toBe(true);
    expect(targetOf({}, { AWS_ENDPOINT_URL_SFN: 'https://states.eu-west-1.amazonaws.com' }).local).toBe(false);
  });

  it('refuses a region that is not one, and an empty profile', () => {
    expect(() => targetOf({ region: 'mars' }, {})).toThrow(SetupProblem);
    expect(() => targetOf({ profile: ' ' }, {})).toThrow('--profile is empty');
  });
});

describe('--execution', () => {
  it('takes a legal name, or an execution ARN with its region and state machine', () => {
    expect(checkExecutionOption('release-42')).toEqual({ name: 'release-42' });
    expect(checkExecutionOption('arn:aws:states:eu-west-1:123456789012:execution:codepipeline-sequencer-prod:release-42')).toEqual({
      arn: 'arn:aws:states:eu-west-1:123456789012:execution:codepipeline-sequencer-prod:release-42',
      region: 'eu-west-1',
      stateMachineName: 'codepipeline-sequencer-prod',
    });
  });

  it.each(['', 'arn:garbage', 'arn:aws:states:us-east-1:123456789012:stateMachine:codepipeline-sequencer-dev', 'bad name/../x', 'x'.repeat(81)])('refuses %j before any call', (value) => {
    expect(() => checkExecutionOption(value)).toThrow(SetupProblem);
  });
});

describe('setup problems, as AWS reports them', () => {
  const target = targetOf({}, {});

  it.each([
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, /^no AWS credentials found/],
    [{ name: 'AccessDeniedException', message: 'not authorized' }, /^access denied by Step Functions in us-east-1/],
    [{ name: 'Error', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND' }, /^cannot reach Step Functions in us-east-1 \(ENOTFOUND\)/],
    [{ name: 'Error', message: 'Region is missing' }, /^no AWS region/],
    [{ name: 'InvalidArn', message: "Invalid Arn: 'x'" }, /refused an ARN/],
    [{ name: 'ExecutionDoesNotExist', message: 'Execution Does Not Exist' }, /^there is no such execution in region us-east-1/],
  ])('%j', (error, message) => {
    expect(setupProblemOf(Object.assign(new Error(error.message), error), target)?.message).toMatch(message);
  });

  it('leaves anything else to the caller', () => {
    expect(setupProblemOf(Object.assign(new Error('boom'), { name: 'InternalFailure' }), target)).toBeUndefined();
  });
});
