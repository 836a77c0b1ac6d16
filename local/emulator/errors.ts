/**
 * An error the emulator answers on the wire: `name` becomes `__type` and `x-amzn-errortype`,
 * which is all the SDK needs to raise its own exception class.
 */
export class AwsServiceError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = 'AwsServiceError';
  }
}
