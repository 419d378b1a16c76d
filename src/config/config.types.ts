/** Typed configuration namespaces, built once from the validated environment (see env.schema.ts). */

export interface AppConfig {
  port: number;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  demoMode: boolean;
}

export interface SecurityConfig {
  apiKeys: string[];
  allowUnauthenticated: boolean;
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Failed authentications one client address may make per window before it is refused with 429. */
  authFailureMaxAttempts: number;
  authFailureWindowMs: number;
  /**
   * Fastify's trustProxy: which hops' X-Forwarded-For to believe when deciding the client address
   * (rate limits, auth-failure limits, logs). false = the socket peer.
   */
  trustProxy: boolean | number | string[];
}

export interface StoreConfig {
  /** Which adapter: upstash when both Upstash settings are set, else redis when REDIS_URL is set, else memory. */
  kind: 'memory' | 'redis' | 'upstash';
  redisUrl?: string;
  upstashUrl?: string;
  upstashToken?: string;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export interface NovitaConfig {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  breakerThreshold: number;
  breakerHalfOpenAfterMs: number;
  maxConcurrent: number;
}

export interface InstancesConfig {
  defaultRegion: string;
  regionFallbackOrder: string[];
  defaultBillingMode: 'spot' | 'onDemand' | 'monthly';
  defaultRootfsSizeGb: number;
  /** An instance read older than this is refreshed from Novita on GET. */
  staleAfterMs: number;
  reconcileIntervalMs: number;
  startupTimeoutMs: number;
  readinessRequestTimeoutMs: number;
  readinessIntervalMs: number;
  idempotencyTtlHours: number;
  enableComprehensiveListing: boolean;
  defaultIncludeNovitaOnly: boolean;
  defaultSyncLocalState: boolean;
}

export interface AutoStopConfig {
  enabled: boolean;
  inactivityThresholdMinutes: number;
  /** Full consistency check period (deadlines of managed running instances repaired, stale ones dropped). */
  checkIntervalSeconds: number;
  dryRun: boolean;
  /** Deadline sweep period: the stop call goes out at most about this long after a deadline. */
  sweepIntervalSeconds: number;
  /** Bounds on a per-instance idleMinutes and on how far a snooze may push the deadline. */
  minIdleMinutes: number;
  maxIdleMinutes: number;
  /** Whether a per-instance policy may turn auto-stop off for that instance. */
  allowDisable: boolean;
  /** instance.idle_warning goes out this long before the deadline; 0 sends none. */
  warningMinutes: number;
}

export interface SyncConfig {
  removeObsoleteInstances: boolean;
  obsoleteInstanceRetentionDays: number;
  enableAutomaticSync: boolean;
  intervalMinutes: number;
}

export interface MigrationConfig {
  enabled: boolean;
  intervalMinutes: number;
  jobTimeoutMs: number;
  maxConcurrent: number;
  dryRun: boolean;
  retryFailed: boolean;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  eligibilityIntervalHours: number;
  /** Seconds between the quick reclaim checks of tracked managed spot instances. */
  reclaimCheckIntervalSeconds: number;
}

export interface WebhooksConfig {
  url?: string;
  /** Standard Webhooks secret, "whsec_<base64>" or any string of at least 16 chars. */
  secret?: string;
  timeoutMs: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  allowPrivateTargets: boolean;
  workerIntervalMs: number;
}

export interface OperationsConfig {
  /** When true, /metrics needs an API key like /api/*. */
  metricsRequireKey: boolean;
  /** Browser origins allowed by CORS; empty means no CORS headers at all. */
  corsOrigins: string[];
  /** Log shipping to Axiom; undefined unless both token and dataset are set. */
  axiom?: { token: string; dataset: string; url: string };
  /** After SIGTERM, readiness answers 503 while the listener keeps serving this long. */
  shutdownDelayMs: number;
  /** Whole shutdown budget from SIGTERM to exit; requests still running near its end get a 503. */
  shutdownTimeoutMs: number;
}

export interface AllConfig {
  app: AppConfig;
  security: SecurityConfig;
  store: StoreConfig;
  novita: NovitaConfig;
  instances: InstancesConfig;
  autoStop: AutoStopConfig;
  sync: SyncConfig;
  migration: MigrationConfig;
  webhooks: WebhooksConfig;
  operations: OperationsConfig;
}
