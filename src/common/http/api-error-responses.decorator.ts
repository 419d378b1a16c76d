import { applyDecorators } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ErrorCode, HTTP_STATUS_BY_CODE } from '../errors';

/** The body of every failure (see all-exceptions.filter.ts), as a named OpenAPI schema. */
export class ErrorBodyDto {
  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', description: 'Machine-readable failure class' })
  code!: ErrorCode;
  @ApiProperty({ description: 'What went wrong, for people' })
  message!: string;
  @ApiProperty({ description: 'Same as the X-Request-ID response header; quote it when reporting a problem' })
  requestId!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Structured context, e.g. `fields: [{field, messages}]` for validation errors',
  })
  details?: Record<string, unknown>;
}

export class ErrorEnvelope {
  @ApiProperty({ type: ErrorBodyDto })
  error!: ErrorBodyDto;
}

export type DocumentedErrorStatus =
  400 | 401 | 403 | 404 | 409 | 413 | 414 | 415 | 429 | 500 | 502 | 503 | 504;

const EXAMPLE_REQUEST_ID = '3f1c2a9e-5b7d-4e21-9a0c-1d2e3f4a5b6c';

/** One description and example per status; the codes a status may carry come from HTTP_STATUS_BY_CODE. */
const STATUS_TEXT: Record<
  DocumentedErrorStatus,
  { description: string; code: ErrorCode; message: string; details?: Record<string, unknown> }
> = {
  400: {
    description: 'The request is malformed: body, query, path or headers; `details.fields` names each field',
    code: ErrorCode.VALIDATION_ERROR,
    message: 'Request validation failed: name',
    details: {
      fields: [{ field: 'name', messages: ['name must be shorter than or equal to 100 characters'] }],
    },
  },
  401: { description: 'Missing or wrong API key', code: ErrorCode.UNAUTHORIZED, message: 'Invalid API key' },
  403: { description: 'Not allowed', code: ErrorCode.FORBIDDEN, message: 'Forbidden' },
  404: {
    description: 'Not found',
    code: ErrorCode.NOT_FOUND,
    message: 'Instance inst_0123456789abcdef0123 not found',
  },
  409: {
    description: 'Conflicts with the current state',
    code: ErrorCode.OPERATION_IN_PROGRESS,
    message: 'Instance trainer-1 has a start operation in progress',
  },
  413: {
    description: 'Body over 1 MiB',
    code: ErrorCode.PAYLOAD_TOO_LARGE,
    message: 'Request body is too large',
  },
  414: {
    description: 'A path segment over 256 characters',
    code: ErrorCode.URI_TOO_LONG,
    message: 'A path segment is too long',
  },
  415: {
    description: 'A non-empty body that is not JSON',
    code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    message: 'Content-Type text/plain is not supported; send application/json',
  },
  429: {
    description: 'Rate limit or failed-authentication budget exhausted; wait `Retry-After` seconds',
    code: ErrorCode.RATE_LIMITED,
    message: 'Too many requests; slow down and retry later',
  },
  500: {
    description: 'Unexpected failure',
    code: ErrorCode.INTERNAL_ERROR,
    message: 'Internal error; quote request id … when reporting it',
  },
  502: {
    description: 'Novita rejected a request we built, or our Novita credentials',
    code: ErrorCode.UPSTREAM_BAD_REQUEST,
    message: 'Novita rejected the request (HTTP 400)',
  },
  503: {
    description:
      'Novita or the state store is unavailable, rate-limits us, or has no capacity; retry after `Retry-After` when given',
    code: ErrorCode.UPSTREAM_UNAVAILABLE,
    message: 'Novita circuit breaker is open; call not attempted',
  },
  504: {
    description: 'Novita did not answer in time',
    code: ErrorCode.UPSTREAM_TIMEOUT,
    message: 'Novita did not answer in time',
  },
};

/** The error codes a status can carry, for the response description. */
export function codesForStatus(status: number): ErrorCode[] {
  return (Object.keys(HTTP_STATUS_BY_CODE) as ErrorCode[]).filter((c) => HTTP_STATUS_BY_CODE[c] === status);
}

const RETRY_AFTER_STATUSES = new Set([429, 503]);

/**
 * Documents the error responses of one operation: each status with the ErrorEnvelope schema, the codes
 * it can carry and an example. Every operation must list the statuses it can return (a test walks
 * /docs-json and fails otherwise); see docs/api-guide.md.
 *
 *   @ApiErrorResponses(400, 401, 404, 409, 429, 503)
 */
export function ApiErrorResponses(...statuses: DocumentedErrorStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorEnvelope, ErrorBodyDto),
    ...statuses.map((status) => {
      const text = STATUS_TEXT[status];
      const codes = codesForStatus(status)
        .map((c) => `\`${c}\``)
        .join(', ');
      return ApiResponse({
        status,
        description: `${text.description}. Codes: ${codes}.`,
        ...(RETRY_AFTER_STATUSES.has(status)
          ? { headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } as never } }
          : {}),
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(ErrorEnvelope) },
            example: {
              error: {
                code: text.code,
                message: text.message,
                requestId: EXAMPLE_REQUEST_ID,
                ...(text.details ? { details: text.details } : {}),
              },
            },
          },
        },
      });
    }),
  );
}

/**
 * A request body every field of which is optional: documented as not required, and accepted empty
 * whatever the Content-Type (see body-parsers.ts).
 */
export const ApiOptionalBody = (type: new () => object): MethodDecorator =>
  ApiBody({
    type,
    required: false,
    description: 'Optional: no body, or an empty one with any Content-Type, means all defaults',
  });
