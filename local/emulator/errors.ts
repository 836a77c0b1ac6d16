/**
 * An error the emulator answers on the wire: `name` becomes `__type` and `x-amzn-errortype`,
 * which is all the SDK needs to raise its own exception class.
 */
export class AwsServiceError extends Error {
  readonly errorType: string;
  readonly httpStatus: number;

  constructor(errorType: string, message: string, httpStatus = 400) {
    super(message);
    this.errorType = errorType;
    this.httpStatus = httpStatus;
    this.name = 'AwsServiceError';
  }
}
