import { Injectable, PipeTransform } from '@nestjs/common';
import { AppError, ErrorCode } from '../../../common/errors';

/** Path ids (ours or Novita's) are 1-128 characters of letters, digits, "-" and "_". */
@Injectable()
export class InstanceIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !/^[a-zA-Z0-9-_]{1,128}$/.test(value)) {
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'Invalid instance ID', {
        fields: [{ field: 'instanceId', messages: ['must be 1-128 letters, digits, "-" or "_"'] }],
      });
    }
    return value;
  }
}
