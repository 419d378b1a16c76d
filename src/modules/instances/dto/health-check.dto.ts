import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { IsWebhookUrl } from '../../webhooks/is-webhook-url.decorator';

/** Readiness-check settings for create and start. Every field is optional; defaults come from config. */
export class HealthCheckDto {
  /** Container port to probe (must be mapped as http); default: the first http port mapping. */
  @IsOptional() @IsInt() @Min(1) @Max(65535) port?: number;
  /** Path requested on the port's endpoint, default "/". */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @Matches(/^\//, { message: 'path must start with /' })
  path?: string;
  /** Per-request timeout in ms (default HEALTH_CHECK_TIMEOUT_MS). */
  @IsOptional() @IsInt() @Min(100) @Max(300000) timeoutMs?: number;
  /** Overall deadline in ms for running + ready (default INSTANCE_STARTUP_MAX_WAIT_TIME). */
  @IsOptional() @IsInt() @Min(10000) @Max(3600000) maxWaitTimeMs?: number;
}

/** The previous implementation's shape, still accepted: retry settings are ignored (the reconciler retries each pass). */
export class LegacyHealthCheckConfigDto {
  @IsOptional() @IsInt() @Min(1000) @Max(300000) timeoutMs?: number;
  @IsOptional() @IsInt() @Min(0) @Max(10) retryAttempts?: number;
  @IsOptional() @IsInt() @Min(100) @Max(30000) retryDelayMs?: number;
  @IsOptional() @IsInt() @Min(30000) @Max(1800000) maxWaitTimeMs?: number;
  @IsOptional() @IsInt() @Min(1) @Max(65535) targetPort?: number;
}

/** The webhook target an action's events go to instead of the instance's stored URL. */
export class WebhookTargetDto {
  /** Receives this request's events instead of the instance's stored URL. */
  @IsOptional() @IsWebhookUrl() webhookUrl?: string;
}

/** Webhook target plus readiness-check settings, shared by create and both start bodies. */
export class ReadinessOptionsDto extends WebhookTargetDto {
  @IsOptional() @ValidateNested() @Type(() => HealthCheckDto) healthCheck?: HealthCheckDto;
  /** Deprecated shape of healthCheck. */
  @ApiPropertyOptional({ deprecated: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => LegacyHealthCheckConfigDto)
  healthCheckConfig?: LegacyHealthCheckConfigDto;
  /** Deprecated: healthCheck.port. */
  @ApiPropertyOptional({ deprecated: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  targetPort?: number;
}
