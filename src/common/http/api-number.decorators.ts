import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';

/**
 * Response fields typed `number` in TypeScript say nothing about fractions; OpenAPI must. Whole numbers
 * use ApiInt, amounts ApiDecimal. (Request fields with @IsInt are typed integer automatically.)
 * A test fails for any `type: number` in the document without a format.
 */
export const ApiInt = (options: ApiPropertyOptions = {}): PropertyDecorator =>
  ApiProperty({ type: 'integer', ...options } as ApiPropertyOptions);

export const ApiDecimal = (options: ApiPropertyOptions = {}): PropertyDecorator =>
  ApiProperty({ type: 'number', format: 'double', ...options } as ApiPropertyOptions);
