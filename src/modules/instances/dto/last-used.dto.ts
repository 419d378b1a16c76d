import { IsISO8601, IsOptional } from 'class-validator';

export class UpdateLastUsedDto {
  /** ISO-8601 time of last use; default now. More than a minute in the future is rejected. */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'lastUsedAt must be an ISO-8601 date-time' })
  lastUsedAt?: string;
}
