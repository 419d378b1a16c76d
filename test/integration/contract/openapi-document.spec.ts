import type { OpenAPIObject } from '@nestjs/swagger';
import { Document, Spectral } from '@stoplight/spectral-core';
import { Json } from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codesForStatus } from '../../../src/common/http/api-error-responses.decorator';
import { runNodeScript } from '../../support/node-script';
import { appOpenApiDocument } from '../../support/openapi-document';

type Op = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations(doc: OpenAPIObject): { method: string; path: string; op: Op }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Op)[m]).map((method) => ({ method, path, op: (item as Op)[method] })),
  );
}

/**
 * spectral:oas warnings we accept, each with its reason (docs/api-guide.md repeats them). None today;
 * anything not listed here, and every error, fails the test.
 */
const ACCEPTED_WARNINGS: Record<string, string> = {};

/**
 * Error statuses whose body is not an ErrorEnvelope, with the reason. Only the detailed health probe:
 * when unhealthy or shutting down it answers 503 with the health report itself (health.controller.ts
 * sends the same DetailedHealthResponse with status 503), so load balancers and people read one shape.
 * It is a probe outside /api; every other error of every operation is an ErrorEnvelope.
 */
const NON_ENVELOPE_ERRORS: Record<string, { schema: string; reason: string }> = {
  'GET /health 503': {
    schema: '#/components/schemas/DetailedHealthResponse',
    reason: 'the detailed health report is the 503 body when unhealthy or shutting down',
  },
};

/**
 * The rules every operation follows, present and future (docs/api-guide.md, "Documenting an endpoint").
 * Written as a walk over the document so a new endpoint that forgets one fails here.
 */
describe('OpenAPI document (/docs-json)', () => {
  let doc: OpenAPIObject;

  beforeAll(async () => {
    doc = await appOpenApiDocument();
  }, 60_000);

  it('passes swagger-parser validation', () => {
    // swagger-parser's $ref resolver is ESM-only, so it runs in a plain Node process.
    const verdict = runNodeScript(
      `let s = '';
       process.stdin.on('data', (c) => (s += c)).on('end', () =>
         require('@apidevtools/swagger-parser').validate(JSON.parse(s))
           .then(() => console.log('valid'), (e) => console.log('invalid: ' + e.message)));`,
      JSON.stringify(doc),
    );
    expect(verdict.trim()).toBe('valid');
  });

  const lint = async (document: unknown) => {
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas as never, 'recommended']] } as never);
    return spectral.run(new Document(JSON.stringify(document, null, 2), Json, 'openapi.json'));
  };

  it('runs spectral:oas for real: a broken copy of the document has errors', async () => {
    const broken = structuredClone(doc) as Op;
    broken.paths['/api/instances'].get.responses['200'].content['application/json'].schema = {
      $ref: '#/nowhere',
    };
    const codes = (await lint(broken)).filter((r) => r.severity === 0).map((r) => r.code);
    expect(codes).toContain('invalid-ref');
  });

  it('has no spectral:oas errors, and no warnings that are not explained', async () => {
    const results = await lint(doc);
    const errors = results
      .filter((r) => r.severity === 0)
      .map((r) => `${r.code} at ${r.path.join('.')}: ${r.message}`);
    expect(errors).toEqual([]);
    const unexplained = results
      .filter((r) => r.severity === 1 && !ACCEPTED_WARNINGS[String(r.code)])
      .map((r) => `${r.code} at ${r.path.join('.')}: ${r.message}`);
    expect(unexplained).toEqual([]);
  });

  it('takes info.version from package.json and names the bearer scheme without calling it a JWT', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
    expect(doc.info.version).toBe(pkg.version);
    const bearer = doc.components?.securitySchemes?.bearer as Op;
    expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(bearer.bearerFormat).toBeUndefined();
    expect(JSON.stringify(doc.components?.securitySchemes)).not.toMatch(/jwt/i);
    expect(doc.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
  });

  it('defines one ErrorEnvelope schema: {error: {code, message, requestId, details?}}', () => {
    const schemas = doc.components?.schemas as Record<string, Op>;
    expect(schemas.ErrorEnvelope).toMatchObject({
      required: ['error'],
      properties: { error: { $ref: '#/components/schemas/ErrorBodyDto' } },
    });
    expect(schemas.ErrorBodyDto.required).toEqual(['code', 'message', 'requestId']);
    expect(Object.keys(schemas.ErrorBodyDto.properties)).toEqual(['code', 'message', 'requestId', 'details']);
  });

  it('gives every operation an id, a description, a tag and a success response', () => {
    for (const { method, path, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect({ where, operationId: typeof op.operationId }).toEqual({ where, operationId: 'string' });
      expect({ where, description: (op.description ?? '').length > 10 }).toEqual({
        where,
        description: true,
      });
      expect({ where, tags: (op.tags ?? []).length > 0 }).toEqual({ where, tags: true });
      expect({ where, success: Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)) }).toEqual({
        where,
        success: true,
      });
    }
  });

  it('documents each error status an operation returns with the ErrorEnvelope, the codes and an example', () => {
    for (const { method, path, op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses as Record<string, Op>)) {
        if (!/^[45]\d\d$/.test(status)) continue;
        const where = `${method.toUpperCase()} ${path} ${status}`;
        const json = response.content?.['application/json'];
        const exception = NON_ENVELOPE_ERRORS[where];
        if (exception) {
          expect({ where, schema: json?.schema }).toEqual({ where, schema: { $ref: exception.schema } });
          continue;
        }
        expect({ where, schema: json?.schema }).toEqual({
          where,
          schema: { $ref: '#/components/schemas/ErrorEnvelope' },
        });
        expect({ where, example: json?.example?.error?.code }).toEqual({
          where,
          example: expect.any(String),
        });
        for (const code of codesForStatus(Number(status))) expect(response.description).toContain(code);
        if (status === '429' || status === '503') expect(response.headers?.['Retry-After']).toBeDefined();
      }
      const statuses = Object.keys(op.responses);
      if (path.startsWith('/api/')) {
        // Every API call can be refused for its key, rate limit or an unreachable store.
        expect({ where: `${method} ${path}`, statuses }).toEqual({
          where: `${method} ${path}`,
          statuses: expect.arrayContaining(['400', '401', '429', '503']),
        });
      }
      if (op.requestBody) expect(statuses).toEqual(expect.arrayContaining(['413', '415']));
      if ((op.parameters ?? []).some((p: Op) => p.in === 'path')) expect(statuses).toContain('404');
    }
  });

  it('declares security: [] on probes and docs, and inherits the API key everywhere under /api', () => {
    for (const { method, path, op } of operations(doc)) {
      if (path.startsWith('/api/'))
        expect({ path, security: op.security }).toEqual({ path, security: undefined });
      else expect({ path, method, security: op.security }).toEqual({ path, method, security: [] });
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/docs', '/docs-json', '/health/live', '/health/ready']),
    );
  });

  it('documents X-Request-ID in and out of every operation, and rate-limit headers on API successes', () => {
    for (const { path, op } of operations(doc)) {
      expect(op.parameters).toContainEqual({ $ref: '#/components/parameters/RequestId' });
      for (const [status, response] of Object.entries(op.responses as Record<string, Op>)) {
        expect(response.headers?.['X-Request-ID']).toEqual({ $ref: '#/components/headers/X-Request-ID' });
        if (path.startsWith('/api/') && status.startsWith('2'))
          expect(response.headers?.['X-RateLimit-Remaining']).toBeDefined();
      }
    }
  });

  it('lists Idempotency-Key once, optional, with its pattern', () => {
    const params = (doc.paths['/api/instances'].post!.parameters ?? []) as Op[];
    const keys = params.filter((p) => String(p.name).toLowerCase() === 'idempotency-key');
    expect(keys).toEqual([
      expect.objectContaining({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: expect.objectContaining({ maxLength: 255 }),
      }),
    ]);
  });

  it('shows query parameters with their types, limits, enums and deprecations', () => {
    const params = Object.fromEntries(
      ((doc.paths['/api/instances'].get!.parameters ?? []) as Op[])
        .filter((p) => p.name)
        .map((p) => [p.name, p]),
    );
    expect(Object.keys(params)).toEqual(
      expect.arrayContaining(['limit', 'offset', 'page', 'pageSize', 'status', 'name']),
    );
    expect(params.limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });
    expect(params.status.schema.enum).toEqual(expect.arrayContaining(['running', 'stopped', 'deleted']));
    expect(params.source.deprecated).toBe(true);
    const create = doc.components!.schemas!.CreateInstanceDto as Op;
    expect(create.properties.healthCheckConfig.deprecated).toBe(true);
    expect(create.properties.targetPort.deprecated).toBe(true);
    expect(create.properties.name.pattern).toBe('^[a-zA-Z0-9-_]+$');
    expect(create.properties.ports).toMatchObject({
      maxItems: 15,
      items: { $ref: '#/components/schemas/PortDto' },
    });
    expect(create.properties.envs).toMatchObject({
      maxItems: 100,
      items: { $ref: '#/components/schemas/EnvDto' },
    });
    expect(create.properties.templateId.oneOf).toEqual([
      expect.objectContaining({ type: 'string' }),
      { type: 'integer', minimum: 0 },
    ]);
  });

  it('types whole numbers as integer: a `number` must say it is fractional (format double)', () => {
    const loose: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
      if (!node || typeof node !== 'object') return;
      const o = node as Op;
      if (o.type === 'number' && !o.format) loose.push(at);
      for (const [k, v] of Object.entries(o)) walk(v, `${at}.${k}`);
    };
    walk(doc, '$');
    expect(loose).toEqual([]);
    const schemas = doc.components!.schemas as Record<string, Op>;
    expect(schemas.CreateInstanceDto.properties.gpuNum.type).toBe('integer');
    expect(schemas.HealthCheckDto.properties.timeoutMs.type).toBe('integer');
    expect(schemas.InstanceListResponseDto.properties.total.type).toBe('integer');
  });
});
