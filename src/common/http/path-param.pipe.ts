import { PipeTransform } from '@nestjs/common';
import { AppError, ErrorCode } from '../errors';

/**
 * Checks one path parameter against the pattern its OpenAPI description documents, so a malformed id
 * is a 400 naming the field rather than a store or Novita lookup.
 */
export class PathParamPipe implements PipeTransform<string, string> {
  constructor(
    private readonly field: string,
    private readonly pattern: RegExp,
    private readonly rule: string,
  ) {}

  transform(value: string): string {
    if (typeof value !== 'string' || !this.pattern.test(value)) {
      throw new AppError(ErrorCode.VALIDATION_ERROR, `Invalid ${this.field}`, {
        fields: [{ field: this.field, messages: [`must be ${this.rule}`] }],
      });
    }
    return value;
  }
}
