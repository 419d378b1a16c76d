import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

export interface FieldProblem {
  field: string;
  messages: string[];
}

/** Flattens nested class-validator errors into one entry per field path ("healthCheck.timeoutMs"). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flattenValidationErrors(e.children ?? [], field)];
  });
}

/**
 * C0 control characters and DEL. Tab, line feed and carriage return stay allowed (a start command or
 * an env value may span lines); fields that must be one line say so with their own pattern.
 */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** The path of the first string (value or key) holding a control character, else null. */
export function findControlCharacter(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return CONTROL_CHARACTER.test(value) ? path || 'value' : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    const childPath = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (CONTROL_CHARACTER.test(key)) return childPath;
    const found = findControlCharacter(child, childPath);
    if (found) return found;
  }
  return null;
}

function invalid(field: string, message: string): BadRequestException {
  return new BadRequestException({
    message: `Request validation failed: ${field}`,
    details: { fields: [{ field, messages: [message] }] },
  });
}

const PRIMITIVES: unknown[] = [String, Boolean, Number, Array, Object];

/**
 * Nest's ValidationPipe turns a JSON `null` body into {} (a `null` once ran a delete) and validates
 * arrays and scalars in odd ways. Here a DTO body is an object or absent: absent becomes {} (so
 * body-optional actions work without a body and required fields are reported as missing), anything
 * else that is not a plain object is a 400. Strings with control characters are refused everywhere.
 */
export class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.metatype !== undefined && !PRIMITIVES.includes(metadata.metatype);
    if (metadata.type === 'body' && dto) {
      if (value === undefined) value = {};
      else if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
        throw invalid('body', `the request body must be a JSON object, not ${got}`);
      }
    }
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      const at = findControlCharacter(value);
      if (at)
        throw invalid(
          metadata.type === 'param' ? (metadata.data ?? at) : at,
          'must not contain control characters',
        );
    }
    return super.transform(value, metadata);
  }
}

/** The global pipe: strict bodies (unknown fields are an error, not silently dropped) and every field listed. */
export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const fields = flattenValidationErrors(errors);
      return new BadRequestException({
        message: `Request validation failed: ${fields.map((f) => f.field).join(', ')}`,
        details: { fields },
      });
    },
  });
}
