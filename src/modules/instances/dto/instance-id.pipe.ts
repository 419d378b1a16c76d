import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { AppError, ErrorCode } from '../../../common/errors';

export const INSTANCE_ID_PATTERN = /^[a-zA-Z0-9-_]{1,128}$/;

/** Documents the instanceId path parameter with the rule InstanceIdPipe enforces. */
export const ApiInstanceIdParam = (): MethodDecorator =>
  ApiParam({
    name: 'instanceId',
    description: 'Our id (inst_…) or the Novita id of a managed instance',
    schema: { type: 'string', pattern: INSTANCE_ID_PATTERN.source, minLength: 1, maxLength: 128 },
  });

/** Path ids (ours or Novita's) are 1-128 characters of letters, digits, "-" and "_". */
@Injectable()
export class InstanceIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !INSTANCE_ID_PATTERN.test(value)) {
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'Invalid instance ID', {
        fields: [{ field: 'instanceId', messages: ['must be 1-128 letters, digits, "-" or "_"'] }],
      });
    }
    return value;
  }
}
