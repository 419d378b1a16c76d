import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { HttpLogger } from 'pino-http';
import { AppModule } from './app.module';
import { ApiKeyGuard } from './common/auth/api-key.guard';
import { AppThrottlerGuard } from './common/auth/app-throttler.guard';
import { registerBodyParsers, renderClientError, renderFrameworkError } from './common/http/body-parsers';
import { clientAddressResolver } from './common/http/client-address';
import { buildOpenApiDocument, prepareOpenApiMetadata } from './common/http/openapi';
import { genRequestId } from './common/http/request-id';
import { createValidationPipe } from './common/http/validation';
import { HTTP_LOGGER, logsRequests, registerRequestLogging } from './common/logging/request-logging';
import { AllConfig } from './config/config.types';
import { registerInlineAnswers } from './infra/http/inline-answers';
import { buildSecurityHeaders, registerSecurityHeaders } from './infra/http/security-headers';
import { ShutdownState } from './infra/lifecycle/shutdown-state';
import { MetricsService } from './infra/metrics/metrics.service';
import { HealthController } from './modules/health/health.controller';
import { INSTANCE_ID_PATTERN } from './modules/instances/dto/instance-id.pipe';
import { InstanceQueryService } from './modules/instances/instance-query.service';
import { InstancesController } from './modules/instances/instances.controller';
import { registerHttpMetrics } from './modules/metrics/http-metrics';
import { UI_ROOT } from './modules/ui/ui.controller';

const BODY_LIMIT_BYTES = 1024 * 1024;
const MAX_PATH_PARAM_LENGTH = 256;

/** Builds the whole application from a validated config; used by main.ts, the demo and the e2e tests. */
export async function createApp(
  config: AllConfig,
  options: { swaggerUi?: boolean } = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    genReqId: genRequestId,
    trustProxy: config.security.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    // Ids are at most 128 characters (400 from the id pipes beyond that); longer segments are 414s.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: renderFrameworkError,
    clientErrorHandler: renderClientError,
  });
  // Nest's own parsers would accept url-encoded forms and refuse empty JSON bodies; see body-parsers.ts.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  registerBodyParsers(app.getHttpAdapter().getInstance(), BODY_LIMIT_BYTES);
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());
  // No enableShutdownHooks(): main.ts installs the draining shutdown (infra/lifecycle/graceful-shutdown.ts).
  registerSecurityHeaders(app, config.operations);
  registerHttpMetrics(app);

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-ID', request.id);
    done();
  });
  registerRequestLogging(fastify, app.get(HTTP_LOGGER));
  registerInlineReads(app, config);

  await prepareOpenApiMetadata();
  // Without the UI no static assets are served (jest cannot load @fastify/static's ESM dependencies).
  // The document is built on the first request for it (SwaggerModule keeps it), which keeps it off boot.
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerUiEnabled: options.swaggerUi ?? true,
  });
  // Dashboard assets: only files that exist get routes, so any other path still gets the API's 404.
  if (options.swaggerUi ?? true)
    app.useStaticAssets({
      root: UI_ROOT,
      prefix: '/ui/',
      wildcard: false,
      decorateReply: false,
      index: false,
    });
  return app;
}

/**
 * The liveness probe and a cached instance read are answered before Fastify and Nest when they can
 * be (infra/http/inline-answers.ts): same body, same headers, same guards' rules, the same request
 * log line and metrics; whatever cannot be answered at once goes through Nest as any other request.
 */
function registerInlineReads(app: NestFastifyApplication, config: AllConfig): void {
  const health = app.get(HealthController);
  const query = app.get(InstanceQueryService);
  const apiKeys = app.get(ApiKeyGuard);
  const throttler = app.get(AppThrottlerGuard);
  const metrics = app.get(MetricsService);
  const shutdown = app.get(ShutdownState);
  const httpLogger = app.get<HttpLogger>(HTTP_LOGGER);
  const clientAddress = clientAddressResolver(config.security.trustProxy);
  const cors = config.operations.corsOrigins.length > 0;
  registerInlineAnswers(
    app.getHttpAdapter().getInstance(),
    [
      {
        url: '/health/live',
        controller: HealthController,
        handler: HealthController.prototype.getLiveness,
        json: () => JSON.stringify(health.getLiveness()),
      },
      {
        url: '/api/instances/:instanceId',
        controller: InstancesController,
        handler: InstancesController.prototype.getInstance,
        // The id pipe's rule: a malformed id gets its 400 from Nest.
        json: (id) => (id && INSTANCE_ID_PATTERN.test(id) ? query.answerJsonAtOnce(id) : undefined),
      },
    ],
    {
      mayEnter: (request) => apiKeys.passesAtOnce(request),
      admit: (request, route) => throttler.spendAtOnce(route.controller, route.handler, request),
    },
    {
      headers: buildSecurityHeaders('api'),
      requestId: genRequestId,
      clientAddress,
      // Draining: Fastify's path asks the client to reconnect. CORS: Nest's hook answers the origin.
      passOn: (req) => shutdown.draining || (cors && req.headers.origin !== undefined),
      record: (route, status, seconds) => metrics.recordHttp('GET', route, status, seconds),
      logRequest: logsRequests(httpLogger) ? (req, res) => httpLogger(req, res) : undefined,
    },
  );
}
