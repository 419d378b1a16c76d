import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { createValidationPipe } from './common/http/validation';
import { genRequestId } from './common/http/request-id';
import { AllConfig } from './config/config.types';
import { registerSecurityHeaders } from './infra/http/security-headers';
import { registerHttpMetrics } from './modules/metrics/http-metrics';

/** Builds the whole application from a validated config; used by main.ts, the demo and the e2e tests. */
export async function createApp(config: AllConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ genReqId: genRequestId, trustProxy: false, bodyLimit: 1024 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());
  // No enableShutdownHooks(): main.ts installs the draining shutdown (infra/lifecycle/graceful-shutdown.ts).
  await registerSecurityHeaders(app, config.operations);
  registerHttpMetrics(app);

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-ID', request.id);
    done();
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Novita GPU control plane')
      .setDescription(
        'Create GPU instances where capacity is cheapest, start/stop/delete them by id or name, auto-stop idle ones, ' +
          'keep state in step with Novita, recover reclaimed spot instances and receive signed webhooks.',
      )
      .setVersion('1.0')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
      .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'bearer')
      .addSecurityRequirements('apiKey')
      .build(),
    { operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey },
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
