import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors';
import { ErrorEnvelope } from './error-envelope';
import { redactUrl } from '../logging/redact-url';

const CODE_BY_HTTP_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_ERROR,
  401: ErrorCode.UNAUTHORIZED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.ROUTE_NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  414: ErrorCode.URI_TOO_LONG,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
};

/**
 * Renders every failure in the one envelope. AppError codes map to statuses through one table;
 * Nest/Fastify HTTP exceptions keep their status; anything else is a 500 whose stack is logged, never returned.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const requestId = String(request.id);
    const { status, body, retryAfter } = this.render(exception, request, requestId);

    if (status >= 500 && !(exception instanceof AppError)) {
      this.logger.error(
        { err: exception, requestId, method: request.method, url: redactUrl(request.url) },
        'Unhandled error',
      );
    } else if (status >= 500 && exception instanceof AppError) {
      // The cause (a driver or HTTP client error) may name internal hosts: logged here, never in the body.
      const cause = exception.cause instanceof Error ? exception.cause.message : undefined;
      this.logger.warn(
        { requestId, code: body.error.code, details: body.error.details, ...(cause ? { cause } : {}) },
        body.error.message,
      );
    }
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    void reply.header('X-Request-ID', requestId);
    void reply.status(status).send(body);
  }

  private render(exception: unknown, request: FastifyRequest, requestId: string) {
    const envelope = (code: string, message: string, details?: Record<string, unknown>): ErrorEnvelope => ({
      error: { code, message, requestId, ...(details ? { details } : {}) },
    });

    if (exception instanceof AppError) {
      return {
        status: exception.httpStatus,
        body: envelope(exception.code, exception.message, exception.details),
        retryAfter: exception.retryAfterSeconds,
      };
    }
    if (exception instanceof ThrottlerException) {
      return {
        status: 429,
        body: envelope(ErrorCode.RATE_LIMITED, 'Too many requests; slow down and retry later'),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse() as
        { message?: unknown; details?: Record<string, unknown> } | string;
      const code =
        CODE_BY_HTTP_STATUS[status] ??
        (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.VALIDATION_ERROR);
      if (status === HttpStatus.NOT_FOUND && code === ErrorCode.ROUTE_NOT_FOUND) {
        return {
          status,
          body: envelope(code, `Route ${request.method} ${request.url.split('?')[0]} not found`),
        };
      }
      const message =
        typeof response === 'string'
          ? response
          : typeof response.message === 'string'
            ? response.message
            : exception.message;
      return {
        status,
        body: envelope(code, message, typeof response === 'object' ? response.details : undefined),
      };
    }
    // Fastify's own errors (bad JSON, body too large, wrong content type) carry a 4xx statusCode.
    const fastifyStatus = (exception as { statusCode?: number })?.statusCode;
    if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
      const code = CODE_BY_HTTP_STATUS[fastifyStatus] ?? ErrorCode.VALIDATION_ERROR;
      return { status: fastifyStatus, body: envelope(code, (exception as Error).message) };
    }
    return {
      status: 500,
      body: envelope(
        ErrorCode.INTERNAL_ERROR,
        `Internal error; quote request id ${requestId} when reporting it`,
      ),
    };
  }
}
