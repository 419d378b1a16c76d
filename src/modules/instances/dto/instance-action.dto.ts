import { Type } from 'class-transformer';
import {
  IsDefined,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { NAME_PATTERN } from './create-instance.dto';
import { HealthCheckDto, LegacyHealthCheckConfigDto } from './health-check.dto';
import { IsWebhookUrl } from '../../webhooks/is-webhook-url.decorator';

// No inheritance between the by-id and by-name bodies: class-validator merges a parent's
// @IsOptional into the child, which would make instanceName optional on the by-name routes.

/** Body of stop and delete by id (all optional). */
export class InstanceActionDto {
  /** Accepted for compatibility; the path id wins. */
  @IsOptional() @IsString() @Length(1, 100) @Matches(NAME_PATTERN) instanceName?: string;
  /** Receives this action's events instead of the instance's stored URL. */
  @IsOptional() @IsWebhookUrl() webhookUrl?: string;
}

/** Body of stop and delete by name. */
export class InstanceByNameActionDto {
  @IsDefined({ message: 'instanceName is required' })
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN)
  instanceName!: string;
  @IsOptional() @IsWebhookUrl() webhookUrl?: string;
}

/** Body of start by id (all optional). */
export class StartInstanceDto {
  @IsOptional() @IsString() @Length(1, 100) @Matches(NAME_PATTERN) instanceName?: string;
  @IsOptional() @IsWebhookUrl() webhookUrl?: string;
  @IsOptional() @ValidateNested() @Type(() => HealthCheckDto) healthCheck?: HealthCheckDto;
  /** Deprecated shape of healthCheck. */
  @IsOptional()
  @ValidateNested()
  @Type(() => LegacyHealthCheckConfigDto)
  healthCheckConfig?: LegacyHealthCheckConfigDto;
  /** Deprecated: healthCheck.port. */
  @IsOptional() @IsInt() @Min(1) @Max(65535) targetPort?: number;
}

/** Body of start by name. */
export class StartByNameDto {
  @IsDefined({ message: 'instanceName is required' })
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN)
  instanceName!: string;
  @IsOptional() @IsWebhookUrl() webhookUrl?: string;
  @IsOptional() @ValidateNested() @Type(() => HealthCheckDto) healthCheck?: HealthCheckDto;
  @IsOptional()
  @ValidateNested()
  @Type(() => LegacyHealthCheckConfigDto)
  healthCheckConfig?: LegacyHealthCheckConfigDto;
  @IsOptional() @IsInt() @Min(1) @Max(65535) targetPort?: number;
}
