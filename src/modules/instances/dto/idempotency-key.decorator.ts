import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { IDEMPOTENCY_KEY_PATTERN } from '../idempotency.service';

/**
 * The Idempotency-Key header's value. A custom parameter decorator rather than @Headers('idempotency-key'),
 * which Swagger would document a second time as a required lowercase header.
 */
export const IdempotencyKey = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined => {
    const value = ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'];
    return Array.isArray(value) ? value[0] : value;
  },
);

/** Documents the header once, with the pattern IdempotencyService enforces. */
export const ApiIdempotencyKeyHeader = (): MethodDecorator =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Makes the request safe to retry: repeats with the same key and body return the first result; ' +
      'the same key with another body is a 409. Kept IDEMPOTENCY_KEY_TTL_HOURS.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, minLength: 1, maxLength: 255 },
  });
