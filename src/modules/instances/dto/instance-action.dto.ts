import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { AutoStopPolicyDto } from '../../auto-stop/dto/auto-stop.dto';
import { NAME_PATTERN } from './create-instance.dto';
import { ReadinessOptionsDto, WebhookTargetDto } from './health-check.dto';

// instanceName is declared in each leaf class, never in a shared parent: class-validator merges a
// parent's @IsOptional into the child, which would make instanceName optional on the by-name routes.

/** Body of stop and delete by id (all optional). */
export class InstanceActionDto extends WebhookTargetDto {
  /** Accepted for compatibility; the path id wins. */
  @ApiPropertyOptional({ deprecated: true, pattern: NAME_PATTERN.source, minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN)
  instanceName?: string;
}

/** Body of stop and delete by name. */
export class InstanceByNameActionDto extends WebhookTargetDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, minLength: 1, maxLength: 100 })
  @IsDefined({ message: 'instanceName is required' })
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN)
  instanceName!: string;
}

/** Body of start by id (all optional). */
export class StartInstanceDto extends ReadinessOptionsDto {
  /** Accepted for compatibility; the path id wins. */
  @ApiPropertyOptional({ deprecated: true, pattern: NAME_PATTERN.source, minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN)
  instanceName?: string;
}

/** Body of start by name. */
export class StartByNameDto extends ReadinessOptionsDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, minLength: 1, maxLength: 100 })
  @IsDefined({ message: 'instanceName is required' })
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN)
  instanceName!: string;
}

/** Body of adopt (all optional): where this instance's events go from now on, and its idle policy. */
export class AdoptInstanceDto extends WebhookTargetDto {
  /** Idle policy (auto-stop); fields left out take the defaults, bounded like a create's. */
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoStopPolicyDto)
  autoStop?: AutoStopPolicyDto;
}
