/**
 * Novita-style errors. The body carries all four keys seen across consumers
 * ({code, reason, message, metadata}; API-NOTES §1.4 and §6 #1).
 */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { code: number; reason: string; message: string; metadata: Record<string, string> } {
    return { code: this.status, reason: this.reason, message: this.message, metadata: {} };
  }
}

export const invalidStateChange = (): SimError =>
  new SimError(400, 'INVALID_STATE_CHANGE', 'invalid state change');
export const insufficientResource = (): SimError =>
  new SimError(400, 'INSUFFICIENT_RESOURCE', 'insufficient resource: no GPUs available for this product');
export const badParam = (message: string): SimError => new SimError(400, 'VALIDATOR_PARAM', message);
