import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
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
  NotEquals,
  ValidateIf,
  ValidateNested,
  isInt,
} from 'class-validator';
import { AutoStopPolicyDto } from '../../auto-stop/dto/auto-stop.dto';
import { ReadinessOptionsDto } from './health-check.dto';
import { IsUniquePorts } from './unique-ports.decorator';

export const NAME_PATTERN = /^[a-zA-Z0-9-_]+$/;
export const BILLING_MODES = ['spot', 'onDemand', 'monthly'] as const;

/** Novita reserves these container ports for its own tooling and refuses them (API-NOTES §3.3). */
export const RESERVED_PORTS = [2222, 2223, 2224] as const;
/** Novita's limits on create (API-NOTES §3.3): at most 15 ports and 100 environment variables. */
export const MAX_PORTS = 15;
export const MAX_ENVS = 100;
/** One line of visible characters; image references and names never contain spaces or controls. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const SINGLE_LINE = /^[^\s\u0000-\u001f\u007f]+$/;
/**
 * A container image reference: registry/repository[:tag][@digest]. No scheme: Novita wants
 * "nvidia/cuda:12.4.1-runtime-ubuntu22.04", not a URL.
 */
export const IMAGE_REFERENCE = /^(?!.*:\/\/)[A-Za-z0-9][A-Za-z0-9._\-/:@+]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class PortDto {
  /** Container port; 2222-2224 are reserved by Novita. */
  @ApiProperty({ not: { enum: [...RESERVED_PORTS] } })
  @IsInt()
  @Min(1)
  @Max(65535)
  @NotEquals(RESERVED_PORTS[0], { message: 'port 2222 is reserved by Novita' })
  @NotEquals(RESERVED_PORTS[1], { message: 'port 2223 is reserved by Novita' })
  @NotEquals(RESERVED_PORTS[2], { message: 'port 2224 is reserved by Novita' })
  port!: number;
  @ApiProperty({ enum: ['http', 'tcp'] })
  @IsIn(['http', 'tcp'])
  type!: 'http' | 'tcp';
}

export class EnvDto {
  /** Environment variable name: letters, digits and "_", not starting with a digit. */
  @ApiProperty({ pattern: ENV_NAME.source })
  @IsString()
  @Length(1, 511)
  @Matches(ENV_NAME, {
    message: 'key must be a variable name (letters, digits, "_"; not starting with a digit)',
  })
  key!: string;
  @IsString() @MaxLength(4095) value!: string;
}

/** templateId arrives as text or as a number (the previous API's clients send both); kept as text. */
const integerToString = ({ value }: { value: unknown }): unknown =>
  typeof value === 'number' && isInt(value) && value >= 0 ? String(value) : value;

/** webhookUrl and the readiness-check fields come from ReadinessOptionsDto. */
export class CreateInstanceDto extends ReadinessOptionsDto {
  /** Unique among managed instances. */
  @ApiProperty({ pattern: NAME_PATTERN.source })
  @IsString()
  @Length(1, 100)
  @Matches(NAME_PATTERN, { message: 'name may contain only letters, digits, "-" and "_"' })
  name!: string;

  /** GPU product name, e.g. "RTX 4090 24GB" (matched as a substring). */
  @IsString()
  @Length(1, 200)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  @Matches(/^[^\u0000-\u001f\u007f]+$/, { message: 'productName must be one line of text' })
  productName!: string;

  /** Template supplying image, ports, envs and registry auth. Either templateId or imageUrl is required. */
  @ApiPropertyOptional({
    description:
      'Template supplying image, ports, envs and registry auth. Either templateId or imageUrl is required. ' +
      'A string of letters, digits, "-" and "_", or a non-negative integer (sent as text to Novita).',
    oneOf: [
      { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' },
      { type: 'integer', minimum: 0 },
    ],
  })
  @Transform(integerToString)
  @ValidateIf((o: CreateInstanceDto) => o.imageUrl === undefined || o.templateId !== undefined)
  @IsDefined({ message: 'either templateId or imageUrl is required' })
  @IsString({ message: 'templateId must be a string or a non-negative integer' })
  @Length(1, 100)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'templateId may contain only letters, digits, "-" and "_"' })
  templateId?: string;

  /** Container image reference such as "nvidia/cuda:12.4.1-runtime-ubuntu22.04" (no scheme); wins over the template's. */
  @ApiPropertyOptional({ pattern: IMAGE_REFERENCE.source })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  @Matches(IMAGE_REFERENCE, {
    message: 'imageUrl must be an image reference such as registry/repository:tag',
  })
  imageUrl?: string;
  /** Registry auth id for a private imageUrl. */
  @ApiPropertyOptional({ pattern: SINGLE_LINE.source })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(SINGLE_LINE, { message: 'imageAuthId must not contain spaces or control characters' })
  imageAuthId?: string;
  /** At most 15 ports, each port number once. */
  @ApiPropertyOptional({ type: [PortDto], maxItems: MAX_PORTS })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PORTS)
  @ValidateNested({ each: true })
  @Type(() => PortDto)
  @IsUniquePorts()
  ports?: PortDto[];
  /** At most 100 variables; merged over the template's. */
  @ApiPropertyOptional({ type: [EnvDto], maxItems: MAX_ENVS })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ENVS)
  @ValidateNested({ each: true })
  @Type(() => EnvDto)
  envs?: EnvDto[];
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
