import { ScheduleModule } from '@nestjs/schedule';
import { Logger } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AllExceptionsFilter } from '../../../src/common/http/all-exceptions.filter';
import { genRequestId } from '../../../src/common/http/request-id';
import { createValidationPipe } from '../../../src/common/http/validation';
import { WebhooksConfig } from '../../../src/config/config.types';
import { StateStore } from '../../../src/infra/store/state-store';
import { WebhookDeliveryService } from '../../../src/modules/webhooks/webhook-delivery.service';
import { BackgroundLoop } from '../../../src/infra/scheduling/background-loop.service';
import { WebhookEmitter } from '../../../src/modules/webhooks/webhook-emitter';
import { WebhooksModule } from '../../../src/modules/webhooks/webhooks.module';
import { WebhooksService } from '../../../src/modules/webhooks/webhooks.service';

export const TEST_WEBHOOKS_CONFIG: WebhooksConfig = {
  secret: 'integration-test-secret-0123456789',
  timeoutMs: 2_000,
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  // The receiver listens on 127.0.0.1.
  allowPrivateTargets: true,
  // Tests drive deliverDue themselves unless they ask for a fast worker.
  workerIntervalMs: 60_000,
};

export interface WebhooksTestApp {
  app: NestFastifyApplication;
  emitter: WebhookEmitter;
  service: WebhooksService;
  delivery: WebhookDeliveryService;
  loop: BackgroundLoop;
  close(): Promise<void>;
}

/**
 * Boots just WebhooksModule over HTTP (Fastify, the global validation pipe and error filter), on a
 * store the test owns, so several "replicas" can share one store.
 */
export async function startWebhooksApp(
  store: StateStore,
  overrides: Partial<WebhooksConfig> = {},
): Promise<WebhooksTestApp> {
  Logger.overrideLogger(false);
  const webhooks: WebhooksConfig = { ...TEST_WEBHOOKS_CONFIG, ...overrides };
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ webhooks })] }),
      // The real loop ticks only when a test asks for a fast worker; others drive passes themselves.
      ...(webhooks.workerIntervalMs < 60_000 ? [ScheduleModule.forRoot()] : []),
      WebhooksModule,
    ],
  })
    .overrideProvider(StateStore)
    .useValue(store)
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter({ genReqId: genRequestId, trustProxy: false }),
    {
      logger: false,
    },
  );
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    emitter: app.get(WebhookEmitter),
    service: app.get(WebhooksService),
    delivery: app.get(WebhookDeliveryService),
    loop: app.get(BackgroundLoop),
    close: () => app.close(),
  };
}

/** Polls until the check passes (returns a truthy value) or the time runs out. */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 5_000,
  stepMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
