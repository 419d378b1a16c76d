import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import ipaddr from 'ipaddr.js';
import { Webhook } from 'standardwebhooks';
import { AllConfig } from './config.types';
import { EnvironmentVariables } from './env.schema';

export const DEFAULT_NOVITA_BASE_URL = 'https://api.novita.ai/gpu-instance/openapi/v1';
export const DEFAULT_AXIOM_URL = 'https://api.axiom.co';
export const DEFAULT_REGION_FALLBACK_ORDER = ['AS-SGP-02', 'CN-HK-01', 'AS-IN-01'];

/** Thrown at boot with every problem found, one per line. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

function isProxyAddress(value: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
  const [address, bits, extra] = value.split('/');
  // Four-part decimal only: ipaddr also accepts legacy forms such as "1.2.3", which are typos here.
  const valid = ipaddr.IPv4.isValidFourPartDecimal(address) || ipaddr.IPv6.isValid(address);
  if (!valid || extra !== undefined) return false;
  if (bits === undefined) return true;
  return Number(bits) <= (ipaddr.IPv6.isValid(address) ? 128 : 32);
}

/** TRUST_PROXY as Fastify takes it: a boolean, a hop count, or the list of trusted proxy addresses. */
export function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Validates the environment once and builds the typed configuration. The only reader of process.env is main/demo. */
export function loadConfig(rawEnv: Env, overrides: { demoMode?: boolean } = {}): AllConfig {
  // Empty strings mean "unset", as in most .env files.
  const env: Env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = plainToInstance(EnvironmentVariables, env, { enableImplicitConversion: false });
  const problems = validateSync(parsed, { skipMissingProperties: false }).flatMap((e) =>
    Object.values(e.constraints ?? {}).slice(0, 1),
  );
  const v = parsed;

  const demoMode = overrides.demoMode ?? v.DEMO_MODE ?? false;
  const nodeEnv = (v.NODE_ENV ?? 'development') as AllConfig['app']['nodeEnv'];
  const apiKeys = (v.API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const allowUnauthenticated = v.ALLOW_UNAUTHENTICATED ?? false;

  if (!demoMode && !v.NOVITA_API_KEY)
    problems.push('NOVITA_API_KEY is required (or run the demo mode: npm run demo)');
  if (nodeEnv === 'production' && apiKeys.length === 0 && !allowUnauthenticated) {
    problems.push(
      'API_KEYS must be set when NODE_ENV=production (or set ALLOW_UNAUTHENTICATED=true to run without API keys)',
    );
  }
  if (Boolean(v.UPSTASH_REDIS_REST_URL) !== Boolean(v.UPSTASH_REDIS_REST_TOKEN)) {
    problems.push('UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together');
  }
  const retryBase = v.NOVITA_RETRY_BASE_DELAY_MS ?? 500;
  const retryMax = v.NOVITA_RETRY_MAX_DELAY_MS ?? 10000;
  if (retryMax < retryBase)
    problems.push('NOVITA_RETRY_MAX_DELAY_MS must not be below NOVITA_RETRY_BASE_DELAY_MS');
  const whInitial = v.WEBHOOK_INITIAL_BACKOFF_MS ?? 5000;
  const whMax = v.WEBHOOK_MAX_BACKOFF_MS ?? 3600000;
  if (whMax < whInitial) problems.push('WEBHOOK_MAX_BACKOFF_MS must not be below WEBHOOK_INITIAL_BACKOFF_MS');
  if (v.WEBHOOK_SECRET?.startsWith('whsec_') && !isValidWhsecSecret(v.WEBHOOK_SECRET)) {
    problems.push('WEBHOOK_SECRET starting with whsec_ must be followed by valid base64');
  }
  const trusted = parseTrustProxy(v.TRUST_PROXY);
  const badProxy = Array.isArray(trusted) ? trusted.find((a) => !isProxyAddress(a)) : undefined;
  if (badProxy !== undefined && !problems.some((p) => p.startsWith('TRUST_PROXY')))
    problems.push(`TRUST_PROXY has an invalid address or CIDR (got "${badProxy}")`);
  const idleMin = v.AUTO_STOP_MIN_IDLE_MINUTES ?? 1;
  const idleMax = v.AUTO_STOP_MAX_IDLE_MINUTES ?? 1440;
  const threshold = v.AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES ?? 20;
  if (idleMax < idleMin)
    problems.push('AUTO_STOP_MAX_IDLE_MINUTES must not be below AUTO_STOP_MIN_IDLE_MINUTES');
  else if (threshold < idleMin || threshold > idleMax)
    problems.push(
      'AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES must lie between AUTO_STOP_MIN_IDLE_MINUTES and AUTO_STOP_MAX_IDLE_MINUTES',
    );
  if (v.METRICS_REQUIRE_KEY && apiKeys.length === 0) {
    problems.push('METRICS_REQUIRE_KEY=true needs API_KEYS (the key /metrics asks for is one of them)');
  }
  if (Boolean(v.AXIOM_TOKEN) !== Boolean(v.AXIOM_DATASET)) {
    problems.push('AXIOM_TOKEN and AXIOM_DATASET must be set together (or neither, to keep logs local)');
  }
  const shutdownDelay = v.SHUTDOWN_DELAY_MS ?? 5000;
  const shutdownTimeout = v.SHUTDOWN_TIMEOUT_MS ?? 30000;
  if (shutdownTimeout < shutdownDelay + 1000) {
    problems.push('SHUTDOWN_TIMEOUT_MS must be at least SHUTDOWN_DELAY_MS + 1000 (it includes the delay)');
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);

  const storeKind = v.UPSTASH_REDIS_REST_URL ? 'upstash' : v.REDIS_URL ? 'redis' : 'memory';
  const fallback = v.REGION_FALLBACK_ORDER
    ? v.REGION_FALLBACK_ORDER.split(',')
    : DEFAULT_REGION_FALLBACK_ORDER;

  return {
    app: {
      port: v.PORT ?? 3000,
      nodeEnv,
      logLevel: (v.LOG_LEVEL ?? 'info') as AllConfig['app']['logLevel'],
      demoMode,
    },
    security: {
      apiKeys,
      allowUnauthenticated,
      rateLimitMax: v.RATE_LIMIT_MAX_REQUESTS ?? 100,
      rateLimitWindowMs: v.RATE_LIMIT_WINDOW_MS ?? 60000,
      authFailureMaxAttempts: v.AUTH_FAILURE_MAX_ATTEMPTS ?? 10,
      authFailureWindowMs: v.AUTH_FAILURE_WINDOW_MS ?? 60000,
      trustProxy: trusted,
    },
    store: {
      kind: storeKind,
      redisUrl: v.REDIS_URL,
      upstashUrl: v.UPSTASH_REDIS_REST_URL,
      upstashToken: v.UPSTASH_REDIS_REST_TOKEN,
      keyPrefix: v.REDIS_KEY_PREFIX ?? 'novita_api',
      connectTimeoutMs: v.REDIS_CONNECTION_TIMEOUT_MS ?? 5000,
      commandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS ?? 2000,
    },
    novita: {
      apiKey: v.NOVITA_API_KEY ?? '',
      baseUrl: (v.NOVITA_API_BASE_URL ?? DEFAULT_NOVITA_BASE_URL).replace(/\/+$/, ''),
      timeoutMs: v.NOVITA_REQUEST_TIMEOUT_MS ?? 15000,
      maxRetries: v.NOVITA_MAX_RETRIES ?? 3,
      retryBaseDelayMs: retryBase,
      retryMaxDelayMs: retryMax,
      breakerThreshold: v.NOVITA_CIRCUIT_BREAKER_THRESHOLD ?? 5,
      breakerHalfOpenAfterMs: v.NOVITA_CIRCUIT_BREAKER_HALF_OPEN_MS ?? 30000,
      maxConcurrent: v.NOVITA_MAX_CONCURRENT_REQUESTS ?? 10,
    },
    instances: {
      defaultRegion: v.DEFAULT_REGION ?? fallback[0],
      regionFallbackOrder: fallback,
      defaultBillingMode: (v.DEFAULT_BILLING_MODE ?? 'spot') as AllConfig['instances']['defaultBillingMode'],
      defaultRootfsSizeGb: v.DEFAULT_ROOTFS_SIZE_GB ?? 60,
      staleAfterMs: v.INSTANCE_CACHE_STALE_MS ?? 30000,
      reconcileIntervalMs: v.OPERATIONS_RECONCILE_INTERVAL_MS ?? 3000,
      startupTimeoutMs: v.INSTANCE_STARTUP_MAX_WAIT_TIME ?? 600000,
      readinessRequestTimeoutMs: v.HEALTH_CHECK_TIMEOUT_MS ?? 10000,
      readinessIntervalMs: v.HEALTH_CHECK_RETRY_DELAY_MS ?? 2000,
      idempotencyTtlHours: v.IDEMPOTENCY_KEY_TTL_HOURS ?? 24,
      enableComprehensiveListing: v.ENABLE_COMPREHENSIVE_LISTING ?? true,
      defaultIncludeNovitaOnly: v.DEFAULT_INCLUDE_NOVITA_ONLY ?? true,
      defaultSyncLocalState: v.DEFAULT_SYNC_LOCAL_STATE ?? false,
    },
    autoStop: {
      enabled: v.AUTO_STOP_ENABLED ?? true,
      inactivityThresholdMinutes: v.AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES ?? 20,
      checkIntervalSeconds: v.AUTO_STOP_CHECK_INTERVAL_SECONDS ?? 300,
      dryRun: v.AUTO_STOP_DRY_RUN ?? false,
      sweepIntervalSeconds: v.AUTO_STOP_SWEEP_INTERVAL_SECONDS ?? 5,
      minIdleMinutes: v.AUTO_STOP_MIN_IDLE_MINUTES ?? 1,
      maxIdleMinutes: v.AUTO_STOP_MAX_IDLE_MINUTES ?? 1440,
      allowDisable: v.AUTO_STOP_ALLOW_DISABLE ?? true,
      warningMinutes: v.AUTO_STOP_WARNING_MINUTES ?? 5,
    },
    sync: {
      removeObsoleteInstances: v.SYNC_REMOVE_OBSOLETE_INSTANCES ?? false,
      obsoleteInstanceRetentionDays: v.SYNC_OBSOLETE_INSTANCE_RETENTION_DAYS ?? 7,
      enableAutomaticSync: v.SYNC_ENABLE_AUTOMATIC_SYNC ?? true,
      intervalMinutes: v.SYNC_INTERVAL_MINUTES ?? 30,
    },
    migration: {
      enabled: v.MIGRATION_ENABLED ?? true,
      intervalMinutes: v.MIGRATION_INTERVAL_MINUTES ?? 15,
      jobTimeoutMs: v.MIGRATION_JOB_TIMEOUT_MS ?? 600000,
      maxConcurrent: v.MIGRATION_MAX_CONCURRENT ?? 5,
      dryRun: v.MIGRATION_DRY_RUN ?? false,
      retryFailed: v.MIGRATION_RETRY_FAILED ?? true,
      logLevel: (v.MIGRATION_LOG_LEVEL ?? 'info') as AllConfig['migration']['logLevel'],
      eligibilityIntervalHours: v.MIGRATION_ELIGIBILITY_INTERVAL_HOURS ?? 4,
      reclaimCheckIntervalSeconds: v.MIGRATION_RECLAIM_CHECK_INTERVAL_SECONDS ?? 10,
    },
    webhooks: {
      url: v.WEBHOOK_URL,
      secret: v.WEBHOOK_SECRET,
      timeoutMs: v.WEBHOOK_TIMEOUT_MS ?? 10000,
      maxAttempts: v.WEBHOOK_MAX_ATTEMPTS ?? 10,
      initialBackoffMs: whInitial,
      maxBackoffMs: whMax,
      allowPrivateTargets: v.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? false,
      workerIntervalMs: v.WEBHOOK_WORKER_INTERVAL_MS ?? 1000,
    },
    operations: {
      metricsRequireKey: v.METRICS_REQUIRE_KEY ?? false,
      // Browsers send Origin without a trailing slash; an origin written with one would never match.
      corsOrigins: (v.CORS_ORIGINS ?? '')
        .split(',')
        .filter(Boolean)
        .map((o) => o.replace(/\/+$/, '')),
      axiom:
        v.AXIOM_TOKEN && v.AXIOM_DATASET
          ? { token: v.AXIOM_TOKEN, dataset: v.AXIOM_DATASET, url: v.AXIOM_URL ?? DEFAULT_AXIOM_URL }
          : undefined,
      shutdownDelayMs: shutdownDelay,
      shutdownTimeoutMs: shutdownTimeout,
    },
  };
}

function isValidWhsecSecret(secret: string): boolean {
  try {
    new Webhook(secret);
    return (
      Buffer.from(secret.slice('whsec_'.length), 'base64').toString('base64').replace(/=+$/, '') ===
      secret.slice('whsec_'.length).replace(/=+$/, '')
    );
  } catch {
    return false;
  }
}
