import OpenAPISchemaValidator from 'openapi-schema-validator';
import { ServiceProcess, startService } from '../../support/service-process';

const API_KEY = 'k3y-that-must-never-be-logged';

// The whole service as a process: request ids, error envelope, auth, docs and logging as a caller sees them.
describe('HTTP basics (service process)', () => {
  let svc: ServiceProcess;

  beforeAll(async () => {
    svc = await startService({
      NOVITA_API_KEY: 'sk_unused',
      NOVITA_API_BASE_URL: 'http://127.0.0.1:9/gpu-instance/openapi/v1',
      API_KEYS: `other-key,${API_KEY}`,
      NOVITA_MAX_RETRIES: '0',
    });
  }, 90_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
  });

  it('serves liveness without a key', async () => {
    const res = await fetch(`${svc.url}/health/live`);
    expect(res.status).toBe(200);
  });

  it('serves a valid OpenAPI 3 document and the Swagger UI', async () => {
    const res = await fetch(`${svc.url}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    const { errors } = new OpenAPISchemaValidator({ version: 3 }).validate(doc);
    expect(errors).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health/live', '/health/ready', '/api/instances']),
    );
    const ui = await fetch(`${svc.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('echoes X-Request-ID and carries it on the log lines of that request', async () => {
    const res = await fetch(`${svc.url}/api/instances`, {
      headers: { 'X-Request-ID': 'abc', 'X-API-Key': API_KEY },
    });
    expect(res.headers.get('x-request-id')).toBe('abc');
    await new Promise((r) => setTimeout(r, 300));
    const mine = svc.lines.filter((l) => l.includes('"requestId":"abc"'));
    expect(mine.length).toBeGreaterThan(0);
    for (const line of mine) expect(JSON.parse(line).requestId).toBe('abc');
  });

  it('generates a request id when none is sent and puts it in error bodies', async () => {
    const res = await fetch(`${svc.url}/no/such/route`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as any;
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toEqual({
      error: { code: 'ROUTE_NOT_FOUND', message: 'Route GET /no/such/route not found', requestId: id },
    });
  });

  it('requires an API key on /api/* and accepts X-API-Key or Bearer', async () => {
    const none = await fetch(`${svc.url}/api/instances`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe('UNAUTHORIZED');
    const wrong = await fetch(`${svc.url}/api/instances`, { headers: { 'X-API-Key': 'nope' } });
    expect(wrong.status).toBe(401);
    const header = await fetch(`${svc.url}/api/instances`, { headers: { 'X-API-Key': API_KEY } });
    expect(header.status).not.toBe(401);
    const bearer = await fetch(`${svc.url}/api/instances`, {
      headers: { Authorization: `Bearer ${API_KEY}` },
    });
    expect(bearer.status).not.toBe(401);
    const probe = await fetch(`${svc.url}/health/ready`);
    expect(probe.status).toBe(200);
  });

  it('rejects malformed JSON with a 400 in the envelope', async () => {
    const res = await fetch(`${svc.url}/api/instances`, {
      method: 'POST',
      headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
      body: '{"name": ',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('VALIDATION_ERROR');
    expect(body.error.requestId).toBeTruthy();
  });

  it('never writes the API key into any log line, and does not log probes', async () => {
    await fetch(`${svc.url}/api/instances?x=1`, { headers: { Authorization: `Bearer ${API_KEY}` } });
    await fetch(`${svc.url}/health/live`, { headers: { 'X-Request-ID': 'probe-1' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(svc.lines.length).toBeGreaterThan(0);
    expect(svc.lines.filter((l) => l.includes(API_KEY))).toEqual([]);
    expect(svc.lines.some((l) => l.includes('[Redacted]'))).toBe(true);
    expect(svc.lines.filter((l) => l.includes('probe-1'))).toEqual([]);
  });
});
