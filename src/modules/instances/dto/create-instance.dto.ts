import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AutoStopPolicyDto } from '../../auto-stop/dto/auto-stop.dto';
import { ReadinessOptionsDto } from './health-check.dto';

export const NAME_PATTERN = /^[a-zA-Z0-9-_]+$/;
export const BILLING_MODES = ['spot', 'onDemand', 'monthly'] as const;

export class PortDto {
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsIn(['http', 'tcp']) type!: 'http' | 'tcp';
}

export class EnvDto {
  @IsString() @Length(1, 511) key!: string;
  @IsString() @MaxLength(4095) value!: string;
}

/** webhookUrl and the readiness-check fields come from ReadinessOptionsDto. */
export class CreateInstanceDto extends ReadinessOptionsDto {
  /** Unique among managed instances. */
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN, { message: 'name may contain only letters, digits, "-" and "_"' })
  name!: string;

  /** GPU product name, e.g. "RTX 4090 24GB" (matched as a substring). */
  @IsString() @Length(1, 200) productName!: string;

  /** Template supplying image, ports, envs and registry auth. Either templateId or imageUrl is required. */
  @ValidateIf((o: CreateInstanceDto) => o.imageUrl === undefined || o.templateId !== undefined)
  @IsDefined({ message: 'either templateId or imageUrl is required' })
  @IsString()
  @Length(1, 100)
  templateId?: string;

  @IsOptional() @IsString() @Length(1, 500) imageUrl?: string;
  /** Registry auth id for a private imageUrl. */
  @IsOptional() @IsString() @Length(1, 255) imageAuthId?: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => PortDto) ports?: PortDto[];
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => EnvDto) envs?: EnvDto[];
  @IsOptional() @IsString() @MaxLength(2047) command?: string;

  @IsOptional() @IsInt() @Min(1) @Max(8) gpuNum?: number;
  /** GB; default DEFAULT_ROOTFS_SIZE_GB. */
  @IsOptional() @IsInt() @Min(10) @Max(6144) rootfsSize?: number;
  /** Preferred region code, e.g. AS-SGP-02; default DEFAULT_REGION. Other regions follow REGION_FALLBACK_ORDER. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9-]{2,40}$/, { message: 'region must be a region code such as AS-SGP-02' })
  region?: string;
  @IsOptional() @IsIn(BILLING_MODES) billingMode?: (typeof BILLING_MODES)[number];

  /**
   * Idle policy (auto-stop); fields left out take the defaults. The idle clock starts when the
   * instance is ready. Outside AUTO_STOP_MIN/MAX_IDLE_MINUTES (or disabling when not allowed): 400.
   */
  @ApiPropertyOptional({
    type: () => AutoStopPolicyDto,
    description:
      'Idle policy (auto-stop); fields left out take the defaults. Outside AUTO_STOP_MIN/MAX_IDLE_MINUTES, or disabling when AUTO_STOP_ALLOW_DISABLE=false: 400 naming the bound.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoStopPolicyDto)
  autoStop?: AutoStopPolicyDto;
}
