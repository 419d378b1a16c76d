import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AppThrottlerGuard } from './common/auth/app-throttler.guard';
import { ApiKeyGuard } from './common/auth/api-key.guard';
import { AuthFailureLimiter } from './common/auth/auth-failure.limiter';
import { SECURITY_CONFIG } from './common/auth/auth.tokens';
import { StoreThrottlerStorage } from './common/auth/store-throttler.storage';
import { AllExceptionsFilter } from './common/http/all-exceptions.filter';
import { buildHttpLoggerOptions, buildLoggerOptions } from './common/logging/logger.options';
import { HTTP_LOGGER } from './common/logging/request-logging';
import { pinoHttp } from 'pino-http';
import { AllConfig } from './config/config.types';
import { StateStore } from './infra/store/state-store';
import { StoreModule } from './infra/store/store.module';
import { AutoStopModule } from './modules/auto-stop/auto-stop.module';
import { LifecycleModule } from './infra/lifecycle/shutdown-state';
import { HealthModule } from './modules/health/health.module';
import { MetricsApiModule } from './modules/metrics/metrics-api.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';
import { InstancesModule } from './modules/instances/instances.module';
import { SyncModule } from './modules/sync/sync.module';
import { UiModule } from './modules/ui/ui.module';
import { MigrationModule } from './modules/migration/migration.module';

/**
 * The root module is built from an already validated configuration, so tests and the demo
 * can boot the whole app with a config object instead of environment variables.
 */
@Module({})
export class AppModule {
  static forRoot(config: AllConfig): DynamicModule {
    const httpLogger = pinoHttp(
      buildHttpLoggerOptions(config.app, config.operations, config.security.trustProxy),
    );
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        LoggerModule.forRoot(buildLoggerOptions(httpLogger)),
        ScheduleModule.forRoot(),
        StoreModule,
        ThrottlerModule.forRootAsync({
          imports: [StoreModule],
          inject: [StateStore],
          useFactory: (store: StateStore) => ({
            // Named 'default' so the headers are the usual X-RateLimit-* and Retry-After (other names become suffixes).
            throttlers: [
              {
                name: 'default',
                limit: config.security.rateLimitMax,
                ttl: config.security.rateLimitWindowMs,
              },
            ],
            storage: new StoreThrottlerStorage(store),
          }),
        }),
        HealthModule,
        WebhooksModule,
        SyncModule,
        // Before InstancesModule: its static auto-stop paths must be registered before ":instanceId".
        AutoStopModule,
        InstancesModule,
        MigrationModule,
        UiModule,
        LifecycleModule,
        MetricsApiModule,
      ],
      providers: [
        { provide: SECURITY_CONFIG, useValue: config.security },
        { provide: HTTP_LOGGER, useValue: httpLogger },
        AuthFailureLimiter,
        // Providers of their own as well, for the answers served before Fastify and Nest (app.factory.ts).
        ApiKeyGuard,
        AppThrottlerGuard,
        // Order matters: authenticate before counting against the rate limit.
        { provide: APP_GUARD, useExisting: ApiKeyGuard },
        { provide: APP_GUARD, useExisting: AppThrottlerGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
