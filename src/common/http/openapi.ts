import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import openApiMetadata from '../../openapi.metadata';
import { REQUEST_ID_PATTERN } from './request-id';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** package.json's version, found upward from this file (src/… under ts-node, dist/src/… when built). */
export function packageVersion(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate))
      return (JSON.parse(readFileSync(candidate, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) throw new Error('package.json not found');
  }
}

/**
 * Documents `@IsInt()` fields as `type: integer`: the swagger plugin only knows the TypeScript type
 * (number). Walks class-validator's registry, so every DTO written later is covered without a second
 * decorator. Explicit @ApiProperty settings are kept; only the type is set.
 */
export function documentIntegerFields(): void {
  const registry = (
    getMetadataStorage() as unknown as {
      validationMetadatas: Map<
        { prototype: object },
        { name?: string; propertyName: string; each?: boolean }[]
      >;
    }
  ).validationMetadatas;
  for (const [target, metas] of registry) {
    for (const meta of metas) {
      if (meta.name !== 'isInt' || meta.each) continue;
      const key = 'swagger/apiModelProperties';
      const existing = (Reflect.getMetadata(key, target.prototype, meta.propertyName) ?? {}) as Record<
        string,
        unknown
      >;
      Reflect.defineMetadata(key, { ...existing, type: 'integer' }, target.prototype, meta.propertyName);
      const listKey = 'swagger/apiModelPropertiesArray';
      const list = (Reflect.getMetadata(listKey, target.prototype) ?? []) as string[];
      if (!list.includes(`:${meta.propertyName}`)) {
        Reflect.defineMetadata(listKey, [...list, `:${meta.propertyName}`], target.prototype);
      }
    }
  }
}

const HEADERS = {
  'X-Request-ID': {
    description:
      'The request id: the caller’s X-Request-ID when it matches the pattern, else a generated UUID',
    schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
  },
  'X-RateLimit-Limit': {
    description: 'Requests allowed per window for this client',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the current window',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer' } },
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

/** Adds what every operation shares: X-Request-ID in and out, rate-limit headers on /api, open probes. */
export function finalizeDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.components = {
    ...doc.components,
    headers: { ...(doc.components?.headers ?? {}), ...HEADERS },
    parameters: {
      ...(doc.components?.parameters ?? {}),
      RequestId: {
        name: 'X-Request-ID',
        in: 'header',
        required: false,
        description:
          'Correlation id echoed in the response header, error bodies and every log line of the request',
        schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
      },
    },
  };
  doc.paths['/docs-json'] = {
    get: {
      operationId: 'getOpenApiDocument',
      tags: ['docs'],
      description: 'This OpenAPI document.',
      security: [],
      responses: {
        '200': {
          description: 'The OpenAPI 3 document',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  };
  doc.paths['/docs'] = {
    get: {
      operationId: 'getSwaggerUi',
      tags: ['docs'],
      description: 'Swagger UI for this document.',
      security: [],
      responses: {
        '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
      },
    },
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    const isApi = path.startsWith('/api/');
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      op.parameters = [...(op.parameters ?? []), { $ref: '#/components/parameters/RequestId' }];
      // Probes and docs are open; the document-level requirement (API key or bearer) covers /api.
      if (!isApi) op.security = [];
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (!response || '$ref' in response) continue;
        const headers: Record<string, unknown> = {
          ...(response.headers ?? {}),
          'X-Request-ID': { $ref: '#/components/headers/X-Request-ID' },
        };
        if (isApi && (status.startsWith('2') || status === '429')) {
          for (const h of ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']) {
            headers[h] = { $ref: `#/components/headers/${h}` };
          }
        }
        response.headers = headers as typeof response.headers;
      }
    }
  }
  return doc;
}

/** Loads the plugin metadata and types the integer fields: run once before the document is built. */
export async function prepareOpenApiMetadata(): Promise<void> {
  await SwaggerModule.loadPluginMetadata(openApiMetadata);
  documentIntegerFields();
}

/**
 * The document served at /docs-json (after prepareOpenApiMetadata): shared parts added. Scanning
 * every route takes about 100 ms, so the service builds it on the first request for it, not at boot.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Novita GPU control plane')
    .setDescription(
      'Create GPU instances where capacity is cheapest, start/stop/delete them by id or name, auto-stop idle ones, ' +
        'keep state in step with Novita, recover reclaimed spot instances and receive signed webhooks. ' +
        'Every failure is an ErrorEnvelope; every response carries X-Request-ID.',
    )
    .setVersion(packageVersion())
    .addServer('/', 'This service')
    .addTag('instances', 'GPU instances: create, read, start, stop, delete')
    .addTag('sync', 'Sync with Novita: on-demand passes and their history')
    .addTag('webhooks', 'Webhook deliveries and redelivery')
    .addTag(
      'auto-stop',
      'Auto-stop of idle instances: per-instance idle policy, snooze, stats and a manual pass',
    )
    .addTag(
      'migration',
      'Spot recovery: reclaimed spot instances migrated or recreated, status, passes and history',
    )
    .addTag(
      'metrics',
      'Metrics of the answering replica: Prometheus text at /metrics (no API key by default) and JSON under /api',
    )
    .addTag('cache', 'In-process caches of Novita data on the answering replica: statistics and clearing')
    .addTag('health', 'Liveness and readiness probes and the detailed health report (no API key)')
    .addTag('docs', 'This document and its UI (no API key)')
    .addSecurity('apiKey', {
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
      description: 'One of the keys configured in API_KEYS',
    })
    .addSecurity('bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'The same API key sent as `Authorization: Bearer <key>`: an opaque key from API_KEYS',
    })
    .build();
  config.security = [{ apiKey: [] }, { bearer: [] }];
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
  });
  return finalizeDocument(document);
}
