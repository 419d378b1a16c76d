import { IsOptional, IsString } from 'class-validator';
import { Bool, IntRange, OneOf, Pattern } from './env.decorators';

const HTTP_URL = /^https?:\/\/[^\s]+$/;
const REDIS_URL = /^rediss?:\/\/[^\s]+$/;
/** false | true | hop count | addresses, CIDRs or proxy-addr's names (loopback, linklocal, uniquelocal). */
const PROXY_ADDRESS = '(loopback|linklocal|uniquelocal|[0-9A-Fa-f]*[.:][0-9A-Fa-f.:]*(\\/\\d{1,3})?)';
const TRUST_PROXY_PATTERN = new RegExp(
  `^(true|false|[1-9]|10|${PROXY_ADDRESS}(\\s*,\\s*${PROXY_ADDRESS})*)$`,
);

/**
 * Every environment variable the service reads, with its allowed range.
 * Defaults are applied in config.loader.ts; docs/configuration.md lists them all.
 */
export class EnvironmentVariables {
  // --- process
  @IntRange(1, 65535) PORT?: number;
  @OneOf(['development', 'production', 'test']) NODE_ENV?: string;
  @OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL?: string;
  @Bool() DEMO_MODE?: boolean;

  // --- API protection
  @IsOptional() @IsString() API_KEYS?: string;
  @Bool() ALLOW_UNAUTHENTICATED?: boolean;
  @IntRange(1, 100000) RATE_LIMIT_MAX_REQUESTS?: number;
  @IntRange(1000, 3600000) RATE_LIMIT_WINDOW_MS?: number;
  @IntRange(1, 1000) AUTH_FAILURE_MAX_ATTEMPTS?: number;
  @IntRange(1000, 86400000) AUTH_FAILURE_WINDOW_MS?: number;
  @Pattern(
    TRUST_PROXY_PATTERN,
    'false, true, a hop count (1-10) or a comma-separated list of proxy addresses/CIDRs',
  )
  TRUST_PROXY?: string;

  // --- state store
  @Pattern(REDIS_URL, 'a redis:// or rediss:// URL') REDIS_URL?: string;
  @Pattern(HTTP_URL, 'an http(s) URL') UPSTASH_REDIS_REST_URL?: string;
  @IsOptional() @IsString() UPSTASH_REDIS_REST_TOKEN?: string;
  @Pattern(/^[a-zA-Z0-9_:-]{1,50}$/, '1-50 characters of letters, digits, _, : or -')
  REDIS_KEY_PREFIX?: string;
  @IntRange(100, 60000) REDIS_CONNECTION_TIMEOUT_MS?: number;
  @IntRange(100, 30000) REDIS_COMMAND_TIMEOUT_MS?: number;

  // --- Novita
  @IsOptional() @IsString() NOVITA_API_KEY?: string;
  @Pattern(HTTP_URL, 'an http(s) URL') NOVITA_API_BASE_URL?: string;
  @IntRange(100, 120000) NOVITA_REQUEST_TIMEOUT_MS?: number;
  @IntRange(0, 10) NOVITA_MAX_RETRIES?: number;
  @IntRange(1, 10000) NOVITA_RETRY_BASE_DELAY_MS?: number;
  @IntRange(10, 60000) NOVITA_RETRY_MAX_DELAY_MS?: number;
  @IntRange(1, 100) NOVITA_CIRCUIT_BREAKER_THRESHOLD?: number;
  @IntRange(100, 600000) NOVITA_CIRCUIT_BREAKER_HALF_OPEN_MS?: number;
  @IntRange(1, 100) NOVITA_MAX_CONCURRENT_REQUESTS?: number;

  // --- instances
  @Pattern(/^[A-Z0-9-]{2,40}$/, 'a region code such as AS-SGP-02') DEFAULT_REGION?: string;
  @Pattern(/^[A-Z0-9-]{2,40}(,[A-Z0-9-]{2,40})*$/, 'a comma-separated list of region codes')
  REGION_FALLBACK_ORDER?: string;
  @OneOf(['spot', 'onDemand', 'monthly']) DEFAULT_BILLING_MODE?: string;
  @IntRange(10, 6144) DEFAULT_ROOTFS_SIZE_GB?: number;
  @IntRange(0, 3600000) INSTANCE_CACHE_STALE_MS?: number;
  @IntRange(200, 60000) OPERATIONS_RECONCILE_INTERVAL_MS?: number;
  @IntRange(10000, 3600000) INSTANCE_STARTUP_MAX_WAIT_TIME?: number;
  @IntRange(100, 60000) HEALTH_CHECK_TIMEOUT_MS?: number;
  @IntRange(100, 60000) HEALTH_CHECK_RETRY_DELAY_MS?: number;
  @IntRange(24, 720) IDEMPOTENCY_KEY_TTL_HOURS?: number;
  @Bool() ENABLE_COMPREHENSIVE_LISTING?: boolean;
  @Bool() DEFAULT_INCLUDE_NOVITA_ONLY?: boolean;
  @Bool() DEFAULT_SYNC_LOCAL_STATE?: boolean;

  // --- auto-stop
  @Bool() AUTO_STOP_ENABLED?: boolean;
  @IntRange(1, 1440) AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES?: number;
  @IntRange(5, 3600) AUTO_STOP_CHECK_INTERVAL_SECONDS?: number;
  @Bool() AUTO_STOP_DRY_RUN?: boolean;
  @IntRange(1, 60) AUTO_STOP_SWEEP_INTERVAL_SECONDS?: number;
  @IntRange(1, 1440) AUTO_STOP_MIN_IDLE_MINUTES?: number;
  @IntRange(1, 10080) AUTO_STOP_MAX_IDLE_MINUTES?: number;
  @Bool() AUTO_STOP_ALLOW_DISABLE?: boolean;
  @IntRange(0, 1440) AUTO_STOP_WARNING_MINUTES?: number;

  // --- sync
  @Bool() SYNC_REMOVE_OBSOLETE_INSTANCES?: boolean;
  @IntRange(1, 365) SYNC_OBSOLETE_INSTANCE_RETENTION_DAYS?: number;
  @Bool() SYNC_ENABLE_AUTOMATIC_SYNC?: boolean;
  @IntRange(5, 1440) SYNC_INTERVAL_MINUTES?: number;

  // --- spot migration
  @Bool() MIGRATION_ENABLED?: boolean;
  @IntRange(1, 60) MIGRATION_INTERVAL_MINUTES?: number;
  @IntRange(60000, 1800000) MIGRATION_JOB_TIMEOUT_MS?: number;
  @IntRange(1, 20) MIGRATION_MAX_CONCURRENT?: number;
  @Bool() MIGRATION_DRY_RUN?: boolean;
  @Bool() MIGRATION_RETRY_FAILED?: boolean;
  @OneOf(['error', 'warn', 'info', 'debug']) MIGRATION_LOG_LEVEL?: string;
  @IntRange(1, 168) MIGRATION_ELIGIBILITY_INTERVAL_HOURS?: number;
  @IntRange(1, 300) MIGRATION_RECLAIM_CHECK_INTERVAL_SECONDS?: number;

  // --- webhooks
  @Pattern(HTTP_URL, 'an http(s) URL') WEBHOOK_URL?: string;
  @Pattern(/^(whsec_[A-Za-z0-9+/=]{16,}|[^\s]{16,})$/, 'at least 16 characters (or whsec_<base64>)')
  WEBHOOK_SECRET?: string;
  @IntRange(1000, 30000) WEBHOOK_TIMEOUT_MS?: number;
  @IntRange(1, 20) WEBHOOK_MAX_ATTEMPTS?: number;
  @IntRange(10, 600000) WEBHOOK_INITIAL_BACKOFF_MS?: number;
  @IntRange(100, 86400000) WEBHOOK_MAX_BACKOFF_MS?: number;
  @Bool() WEBHOOK_ALLOW_PRIVATE_TARGETS?: boolean;
  @IntRange(50, 60000) WEBHOOK_WORKER_INTERVAL_MS?: number;

  // --- operations: metrics, CORS, log shipping, shutdown
  @Bool() METRICS_REQUIRE_KEY?: boolean;
  @Pattern(
    /^https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*$/,
    'a comma-separated list of origins such as https://ops.example.com',
  )
  CORS_ORIGINS?: string;
  @IsOptional() @IsString() AXIOM_TOKEN?: string;
  @Pattern(/^[a-zA-Z0-9._-]{1,128}$/, 'a dataset name (letters, digits, ., _ or -)') AXIOM_DATASET?: string;
  @Pattern(HTTP_URL, 'an http(s) URL') AXIOM_URL?: string;
  @IntRange(0, 120000) SHUTDOWN_DELAY_MS?: number;
  @IntRange(1000, 600000) SHUTDOWN_TIMEOUT_MS?: number;
}
