import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidationArguments,
} from 'class-validator';

/** Messages name the variable, what it allows and what it got, so one boot error says everything. */
const got = (a: ValidationArguments) => `(got "${String(a.value)}")`;

const toInt = Transform(({ value }) => {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
});

/** Optional integer env var within [min, max]; the default lives in config.loader.ts. */
export function IntRange(min: number, max: number) {
  const message = (a: ValidationArguments) =>
    `${a.property} must be an integer from ${min} to ${max} ${got(a)}`;
  return applyDecorators(
    IsOptional(),
    toInt,
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}

export function Bool() {
  const message = (a: ValidationArguments) => `${a.property} must be true or false ${got(a)}`;
  return applyDecorators(
    IsOptional(),
    Transform(({ value }) => {
      if (value === undefined || value === '') return undefined;
      const v = String(value).trim().toLowerCase();
      if (['true', '1', 'yes'].includes(v)) return true;
      if (['false', '0', 'no'].includes(v)) return false;
      return value;
    }),
    IsBoolean({ message }),
  );
}

export function OneOf(values: readonly string[]) {
  const message = (a: ValidationArguments) => `${a.property} must be one of ${values.join(', ')} ${got(a)}`;
  return applyDecorators(IsOptional(), IsIn(values as string[], { message }));
}

export function Pattern(re: RegExp, what: string) {
  const message = (a: ValidationArguments) => `${a.property} must be ${what} ${got(a)}`;
  return applyDecorators(IsOptional(), IsString({ message }), Matches(re, { message }));
}
