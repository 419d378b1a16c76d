import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import { AppError, ErrorCode } from '../../common/errors';
import { ABORTED, NovitaHttpError } from './novita-http';
import {
  DEFAULT_UPSTREAM_RETRY_AFTER_SECONDS,
  classifyNovitaError,
  isBreakerFailure,
  isNotConnectedError,
  isRetryableError,
  parseRetryAfterMs,
  retryAfterMsOf,
} from './novita-error.classifier';

const SECRET = 'sk_live_very_secret_key';
function httpError(status: number, data: unknown, headers: Record<string, string> = {}): NovitaHttpError {
  return new NovitaHttpError(`Request failed with status code ${status}`, 'ERR_BAD_RESPONSE', {
    status,
    headers,
    data,
  });
}

function networkError(code: string): NovitaHttpError {
  return new NovitaHttpError(`connect ${code} 127.0.0.1:1`, code);
}

const classify = (err: unknown) => classifyNovitaError(err, { operation: 'getInstance' });

describe('novita-error.classifier', () => {
  describe('classifyNovitaError', () => {
    it.each([
      ['404 without a body', httpError(404, ''), ErrorCode.NOT_FOUND],
      [
        '400 "instance not found"',
        httpError(400, { code: 400, reason: 'RESOURCE_NOT_FOUND', message: 'instance not found' }),
        ErrorCode.NOT_FOUND,
      ],
      [
        '400 with the "not fount" typo',
        httpError(400, { message: 'template not fount' }),
        ErrorCode.NOT_FOUND,
      ],
      [
        '400 with only a *_NOT_FOUND reason',
        httpError(400, { reason: 'TEMPLATE_NOT_FOUND', message: 'bad' }),
        ErrorCode.NOT_FOUND,
      ],
      [
        '400 "invalid state change"',
        httpError(400, { message: 'invalid state change' }),
        ErrorCode.INVALID_STATE,
      ],
      [
        '400 INSUFFICIENT_RESOURCE reason',
        httpError(400, { reason: 'INSUFFICIENT_RESOURCE', message: 'no gpu' }),
        ErrorCode.INSUFFICIENT_RESOURCES,
      ],
      [
        '400 MIGRATE_INSUFFICIENT_RESOURCE',
        httpError(400, { reason: 'MIGRATE_INSUFFICIENT_RESOURCE', message: 'x' }),
        ErrorCode.INSUFFICIENT_RESOURCES,
      ],
      [
        '400 with the name in a string code',
        httpError(400, { code: 'INSUFFICIENT_RESOURCE' }),
        ErrorCode.INSUFFICIENT_RESOURCES,
      ],
      [
        '400 with the name inside the message',
        httpError(400, { message: 'create failed: INSUFFICIENT_RESOURCE' }),
        ErrorCode.INSUFFICIENT_RESOURCES,
      ],
      [
        '401',
        httpError(401, { reason: 'UNAUTHORIZED', message: 'invalid api key' }),
        ErrorCode.UNAUTHORIZED_UPSTREAM,
      ],
      ['403', httpError(403, { reason: 'FORBIDDEN', message: 'forbidden' }), ErrorCode.UNAUTHORIZED_UPSTREAM],
      ['429', httpError(429, { reason: 'RATE_LIMIT_EXCEEDED' }), ErrorCode.UPSTREAM_RATE_LIMITED],
      ['500', httpError(500, { reason: 'UNKNOWN', message: 'boom' }), ErrorCode.UPSTREAM_UNAVAILABLE],
      ['503 with an HTML body', httpError(503, '<html>bad gateway</html>'), ErrorCode.UPSTREAM_UNAVAILABLE],
      [
        'other 400',
        httpError(400, { reason: 'VALIDATOR_PARAM', message: 'gpuNum out of range' }),
        ErrorCode.UPSTREAM_BAD_REQUEST,
      ],
      ['409', httpError(409, { message: 'conflict' }), ErrorCode.UPSTREAM_BAD_REQUEST],
      ['ECONNREFUSED', networkError('ECONNREFUSED'), ErrorCode.UPSTREAM_UNAVAILABLE],
      ['ECONNRESET', networkError('ECONNRESET'), ErrorCode.UPSTREAM_UNAVAILABLE],
      ['socket timeout', networkError('ECONNABORTED'), ErrorCode.UPSTREAM_TIMEOUT],
      ['ETIMEDOUT', networkError('ETIMEDOUT'), ErrorCode.UPSTREAM_TIMEOUT],
      ['ENOTFOUND', networkError('ENOTFOUND'), ErrorCode.UPSTREAM_UNAVAILABLE],
      ['502', httpError(502, ''), ErrorCode.UPSTREAM_UNAVAILABLE],
      ['404 with a body that names nothing', httpError(404, { message: 'gone' }), ErrorCode.NOT_FOUND],
      [
        '400 whose error field says not found',
        httpError(400, { error: 'instance not found' }),
        ErrorCode.NOT_FOUND,
      ],
      ['400 with "not  found" spaced', httpError(400, { message: 'not   found' }), ErrorCode.NOT_FOUND],
      [
        '400 NOT_FOUND with an underscore',
        httpError(400, { reason: 'INSTANCE_NOT_FOUND' }),
        ErrorCode.NOT_FOUND,
      ],
      ['499', httpError(499, {}), ErrorCode.UPSTREAM_BAD_REQUEST],
      [
        'a timed-out cancellation marker',
        Object.assign(new Error('cancelled'), { isTaskCancelledError: true }),
        ErrorCode.UPSTREAM_TIMEOUT,
      ],
      [
        'a request aborted by the timeout signal',
        new NovitaHttpError('canceled', ABORTED),
        ErrorCode.UPSTREAM_TIMEOUT,
      ],
      [
        'cockatiel timeout',
        new TaskCancelledError('Operation timed out after 300ms'),
        ErrorCode.UPSTREAM_TIMEOUT,
      ],
      ['open breaker', new BrokenCircuitError(), ErrorCode.UPSTREAM_UNAVAILABLE],
      ['full bulkhead', new BulkheadRejectedError(1, 1), ErrorCode.UPSTREAM_UNAVAILABLE],
      ['anything else', new TypeError('x is undefined'), ErrorCode.INTERNAL_ERROR],
    ])('should classify %s', (_name, err, code) => {
      const appError = classify(err);
      expect(appError).toBeInstanceOf(AppError);
      expect(appError.code).toBe(code);
      expect(appError.details?.operation).toBe('getInstance');
    });

    it('should put Novita reason, code and message into details', () => {
      const appError = classify(
        httpError(400, { code: 400, reason: 'INSUFFICIENT_RESOURCE', message: 'no 4090 left' }),
      );
      expect(appError.details).toMatchObject({
        upstreamStatus: 400,
        reason: 'INSUFFICIENT_RESOURCE',
        novitaCode: 400,
        novitaMessage: 'no 4090 left',
      });
      expect(appError.message).toContain('no 4090 left');
    });

    it('should never carry the API key, in details, message or cause', () => {
      // Headers of the answer never reach the AppError (only Novita's body fields do).
      const echoed = { 'www-authenticate': `Bearer ${SECRET}`, 'x-echo': SECRET };
      for (const err of [
        httpError(401, { message: 'bad key' }, echoed),
        networkError('ECONNREFUSED'),
        httpError(500, {}, echoed),
      ]) {
        const appError = classify(err);
        const cause = appError.cause as Error;
        const dump = JSON.stringify({
          d: appError.details,
          m: appError.message,
          c: cause?.message,
          s: cause?.stack,
        });
        expect(dump).not.toContain(SECRET);
        expect(cause).not.toBeInstanceOf(NovitaHttpError);
      }
    });

    it('should set retryAfterSeconds on UPSTREAM_RATE_LIMITED from the header', () => {
      expect(classify(httpError(429, {}, { 'retry-after': '7' })).retryAfterSeconds).toBe(7);
      expect(classify(httpError(429, {}, { 'retry-after': '0.2' })).retryAfterSeconds).toBe(1);
      // Without a header the caller still gets a Retry-After: a 503 without one invites a hot retry loop.
      expect(classify(httpError(429, {})).retryAfterSeconds).toBe(DEFAULT_UPSTREAM_RETRY_AFTER_SECONDS);
    });

    it("should keep Novita's 429 apart from our own rate limit: a 503 UPSTREAM_RATE_LIMITED", () => {
      const e = classify(httpError(429, { reason: 'RATE_LIMIT_EXCEEDED' }));
      expect(e.code).toBe(ErrorCode.UPSTREAM_RATE_LIMITED);
      expect(e.httpStatus).toBe(503);
    });

    it('should give an open breaker a Retry-After of its half-open delay', () => {
      const open = classifyNovitaError(new BrokenCircuitError(), { breakerRetryAfterSeconds: 30 });
      expect(open).toMatchObject({ code: ErrorCode.UPSTREAM_UNAVAILABLE, retryAfterSeconds: 30 });
      expect(open.httpStatus).toBe(503);
      expect(classifyNovitaError(new BrokenCircuitError()).retryAfterSeconds).toBe(
        DEFAULT_UPSTREAM_RETRY_AFTER_SECONDS,
      );
    });

    it("should say what happened for HTTP 500 and keep Novita's message", () => {
      const e = classify(httpError(500, { reason: 'UNKNOWN', message: 'boom' }));
      expect(e.message).toBe('Novita failed with HTTP 500: boom');
      expect(e.httpStatus).toBe(503);
      expect(e.details).toMatchObject({
        upstreamStatus: 500,
        reason: 'UNKNOWN',
        novitaMessage: 'boom',
        operation: 'getInstance',
      });
      expect(classify(httpError(500, '')).message).toBe('Novita failed with HTTP 500');
    });

    it('should call ETIMEDOUT a 504 timeout and keep a safe cause', () => {
      const e = classify(networkError('ETIMEDOUT'));
      expect(e.message).toBe('Novita did not answer in time');
      expect(e.httpStatus).toBe(504);
      expect(e.details).toEqual({ operation: 'getInstance' });
      expect((e.cause as Error).message).toBe('ETIMEDOUT: connect ETIMEDOUT 127.0.0.1:1');
    });

    it('should name the network code when Novita is unreachable', () => {
      const e = classify(networkError('ECONNREFUSED'));
      expect(e.message).toBe('Novita unreachable (ECONNREFUSED)');
      expect(e.details).toEqual({ operation: 'getInstance', networkCode: 'ECONNREFUSED' });
    });

    it('should word each classified answer for the caller', () => {
      expect(classify(httpError(401, {})).message).toBe('Novita rejected our credentials (HTTP 401)');
      expect(classify(httpError(404, { message: 'x' })).message).toBe('Novita resource not found: x');
      expect(classify(httpError(400, { message: 'invalid state change' })).message).toBe(
        "Novita refused the action in the instance's current state: invalid state change",
      );
      expect(classify(httpError(400, { message: 'INSUFFICIENT_RESOURCE' })).message).toBe(
        'Novita has no capacity for this request: INSUFFICIENT_RESOURCE',
      );
      expect(classify(httpError(400, { reason: 'VALIDATOR_PARAM' })).message).toBe(
        'Novita rejected the request (HTTP 400)',
      );
      expect(classify(httpError(429, { message: 'slow down' })).message).toBe(
        'Novita rate limit reached: slow down',
      );
      expect(classify(new BulkheadRejectedError(1, 1)).message).toBe('Too many Novita calls queued');
      expect(classify(new TypeError('x')).message).toBe('Unexpected failure calling Novita');
      expect(classify(new BrokenCircuitError()).details).toEqual({
        operation: 'getInstance',
        circuit: 'open',
      });
    });

    it('should keep a plain-text body as the message, cut to 500 characters', () => {
      const e = classify(httpError(400, 'x'.repeat(600)));
      expect(e.details?.novitaMessage).toBe('x'.repeat(500));
      expect(classify(httpError(400, '   ')).details).not.toHaveProperty('novitaMessage');
      expect(classify(httpError(400, { error: 'E', code: 7 })).details).toMatchObject({
        novitaError: 'E',
        novitaCode: 7,
      });
    });

    it('should record exactly what Novita said, and nothing it did not say', () => {
      // toStrictEqual: a key set to undefined would still be a key in the logged details.
      expect(classify(httpError(400, { message: 'bad gpuNum' })).details).toStrictEqual({
        operation: 'getInstance',
        upstreamStatus: 400,
        novitaMessage: 'bad gpuNum',
      });
      expect(classify(httpError(500, undefined)).message).toBe('Novita failed with HTTP 500');
      expect(classify(httpError(500, undefined)).details).toStrictEqual({
        operation: 'getInstance',
        upstreamStatus: 500,
      });
    });

    it("should read Novita's fields as separate words", () => {
      expect(classify(httpError(400, { reason: 'not', message: 'found' })).code).toBe(ErrorCode.NOT_FOUND);
    });

    it('should classify by the response even when the socket code says timeout', () => {
      const err = new NovitaHttpError('timed out', 'ETIMEDOUT', { status: 500, headers: {}, data: {} });
      expect(classify(err).code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
    });

    it('should keep a cause on every classified error, as a plain Error without the exchange', () => {
      expect((classify(httpError(500, {})).cause as Error).message).toBe(
        'ERR_BAD_RESPONSE: Request failed with status code 500',
      );
      expect((classify(networkError('ECONNREFUSED')).cause as Error).message).toBe(
        'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
      );
      const bug = new TypeError('x is undefined');
      expect(classify(bug).cause).toBe(bug);
      const timeout = new TaskCancelledError('Operation timed out after 300ms');
      expect(classify(timeout).cause).toBe(timeout);
      const codeless = new NovitaHttpError('Request failed with status code 500', undefined, {
        status: 500,
        headers: {},
        data: {},
      });
      expect((classify(codeless).cause as Error).message).toBe('HTTP: Request failed with status code 500');
    });

    it('should describe a network error without a code', () => {
      const err = new NovitaHttpError('socket hang up', undefined);
      expect(classify(err).message).toBe('Novita unreachable (network error)');
      expect(isNotConnectedError(err)).toBe(false);
    });

    it('should say why an open breaker answered', () => {
      expect(classify(new BrokenCircuitError()).message).toBe(
        'Novita circuit breaker is open; call not attempted',
      );
    });

    it('should pass an AppError through untouched', () => {
      const original = new AppError(ErrorCode.CONFLICT, 'x');
      expect(classify(original)).toBe(original);
    });
  });

  describe('parseRetryAfterMs', () => {
    it('should read seconds and HTTP dates and ignore junk', () => {
      expect(parseRetryAfterMs('2')).toBe(2000);
      expect(parseRetryAfterMs('0.5')).toBe(500);
      expect(parseRetryAfterMs(['3'])).toBe(3000);
      const now = Date.UTC(2025, 0, 1, 0, 0, 0);
      expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
      expect(parseRetryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
      expect(parseRetryAfterMs('soon')).toBeUndefined();
      expect(parseRetryAfterMs(undefined)).toBeUndefined();
      expect(parseRetryAfterMs('')).toBeUndefined();
      expect(parseRetryAfterMs('   ')).toBeUndefined();
      expect(parseRetryAfterMs(' 4 ')).toBe(4000);
      expect(parseRetryAfterMs(5)).toBe(5000);
      expect(parseRetryAfterMs(0)).toBe(0);
      expect(parseRetryAfterMs(-1)).toBeUndefined();
      expect(parseRetryAfterMs('-1')).toBeUndefined();
      expect(parseRetryAfterMs('1.')).toBeUndefined();
      expect(parseRetryAfterMs('0.25')).toBe(250);
    });
  });

  describe('policy predicates', () => {
    const cap = 30_000;

    it('should retry network errors, timeouts, 429 and 5xx but no other 4xx', () => {
      expect(isRetryableError(networkError('ECONNRESET'), cap)).toBe(true);
      expect(isRetryableError(new TaskCancelledError(), cap)).toBe(true);
      expect(isRetryableError(httpError(503, {}), cap)).toBe(true);
      expect(isRetryableError(httpError(429, {}, { 'retry-after': '1' }), cap)).toBe(true);
      expect(isRetryableError(httpError(404, {}), cap)).toBe(false);
      expect(isRetryableError(httpError(400, { message: 'invalid state change' }), cap)).toBe(false);
      expect(isRetryableError(httpError(401, {}), cap)).toBe(false);
      expect(isRetryableError(new TypeError('bug'), cap)).toBe(false);
    });

    it('should not retry a 429 whose Retry-After exceeds the cap', () => {
      expect(isRetryableError(httpError(429, {}, { 'retry-after': '31' }), cap)).toBe(false);
      expect(isRetryableError(httpError(429, {}, { 'retry-after': '30' }), cap)).toBe(true);
      expect(isRetryableError(httpError(429, {}), cap)).toBe(true);
    });

    it('should retry ETIMEDOUT and HTTP 500 but not 499', () => {
      expect(isRetryableError(networkError('ETIMEDOUT'), cap)).toBe(true);
      expect(isRetryableError(httpError(500, {}), cap)).toBe(true);
      expect(isRetryableError(httpError(499, {}), cap)).toBe(false);
      expect(isBreakerFailure(networkError('ETIMEDOUT'))).toBe(true);
      expect(isBreakerFailure(httpError(499, {}))).toBe(false);
      expect(isBreakerFailure(new TypeError('bug'))).toBe(false);
    });

    it('should read Retry-After only from 429 answers', () => {
      expect(retryAfterMsOf(httpError(429, {}, { 'retry-after': '2' }))).toBe(2000);
      expect(retryAfterMsOf(httpError(503, {}, { 'retry-after': '2' }))).toBeUndefined();
      expect(retryAfterMsOf(new Error('x'))).toBeUndefined();
      expect(retryAfterMsOf(networkError('ECONNRESET'))).toBeUndefined();
      const headerless = httpError(429, {});
      headerless.response!.headers = undefined as never;
      expect(retryAfterMsOf(headerless)).toBeUndefined();
    });

    it('should count only network errors, timeouts and 5xx against the breaker', () => {
      expect(isBreakerFailure(networkError('ECONNREFUSED'))).toBe(true);
      expect(isBreakerFailure(new TaskCancelledError())).toBe(true);
      expect(isBreakerFailure(httpError(500, {}))).toBe(true);
      expect(isBreakerFailure(httpError(429, {}))).toBe(false);
      expect(isBreakerFailure(httpError(404, {}))).toBe(false);
      expect(isBreakerFailure(httpError(400, {}))).toBe(false);
    });

    it('should treat only connection-never-opened errors as safe to resend a create', () => {
      expect(isNotConnectedError(networkError('ECONNREFUSED'))).toBe(true);
      expect(isNotConnectedError(networkError('ENOTFOUND'))).toBe(true);
      expect(isNotConnectedError(networkError('ECONNRESET'))).toBe(false);
      expect(isNotConnectedError(new TaskCancelledError())).toBe(false);
      expect(isNotConnectedError(httpError(503, {}))).toBe(false);
      expect(isNotConnectedError(httpError(429, {}))).toBe(false);
      expect(isNotConnectedError(networkError('EAI_AGAIN'))).toBe(true);
      expect(isNotConnectedError(networkError('ETIMEDOUT'))).toBe(false);
      expect(isNotConnectedError(new NovitaHttpError('canceled', ABORTED))).toBe(false);
    });
  });
});
