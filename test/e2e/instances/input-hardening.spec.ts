import { API_KEY, InstancesE2e, startInstancesE2e } from './instances-e2e.harness';

const TEMPLATE = '212'; // simulator template: http 8080 + 8888, tcp 22
const PRODUCT = 'RTX 4090 24GB';

/** A raw request: exact bytes and headers, no JSON helper in between. */
async function raw(
  t: InstancesE2e,
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(t.svc.url + path, {
    method,
    headers: { 'x-api-key': API_KEY, ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text: the assertions below then fail on the envelope shape
  }
  return { status: res.status, headers: res.headers, body };
}

const envelope = (code: string) => ({
  error: expect.objectContaining({ code, message: expect.any(String), requestId: expect.any(String) }),
});

describe('input hardening (e2e)', () => {
  let t: InstancesE2e;
  const novitaCalls = (path?: string) => t.sim.sim.callLog(path ? { path } : {}).length;

  beforeAll(async () => {
    t = await startInstancesE2e();
  }, 30_000);

  afterAll(async () => {
    await t?.close();
  });

  async function createRunning(name: string): Promise<string> {
    const res = await t.request('POST', '/api/instances', {
      name,
      productName: PRODUCT,
      templateId: TEMPLATE,
    });
    expect(res.status).toBe(201);
    await t.waitForEvent('instance.ready', res.body.instanceId, res.body.operationId);
    return res.body.instanceId;
  }

  describe('body-optional actions', () => {
    it('stops an instance on POST .../stop with Content-Type: application/json and no body', async () => {
      const id = await createRunning('empty-body-stop');
      const res = await raw(t, 'POST', `/api/instances/${id}/stop`, {
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ instanceId: id, status: 'stopping' });
      await t.waitForEvent('instance.stopped', id);

      // Start with an empty text/plain body, stop-all with an empty JSON body: no body means no options.
      const started = await raw(t, 'POST', `/api/instances/${id}/start`, {
        headers: { 'content-type': 'text/plain' },
        body: '',
      });
      expect(started.status).toBe(202);
      await t.waitForEvent('instance.ready', id, started.body.operationId);
      const all = await raw(t, 'POST', '/api/instances/stop-all', {
        headers: { 'content-type': 'application/json' },
      });
      expect(all.status).toBe(200);
      expect(all.body.results).toEqual(expect.arrayContaining([expect.objectContaining({ instanceId: id })]));
    }, 60_000);

    it.each([
      ['null', 'null'],
      ['an array', '[]'],
      ['a string', '"stop"'],
      ['a number', '42'],
      ['true', 'true'],
    ])(
      'refuses %s where an object is expected, without touching the instance',
      async (_what, body) => {
        const id = await createRunning(`not-object-${body.length}-${body.charCodeAt(0)}`);
        const before = novitaCalls('/gpu/instance/delete');
        const res = await raw(t, 'DELETE', `/api/instances/${id}`, {
          headers: { 'content-type': 'application/json' },
          body,
        });
        expect(res.status).toBe(400);
        expect(res.body).toEqual(envelope('VALIDATION_ERROR'));
        expect(res.body.error.details.fields[0]).toEqual({
          field: 'body',
          messages: [expect.stringMatching(/^the request body must be a JSON object/)],
        });
        expect(novitaCalls('/gpu/instance/delete')).toBe(before);
        expect((await t.request('GET', `/api/instances/${id}`)).body.status).toBe('ready');
      },
      30_000,
    );
  });

  describe('malformed requests are 4xx in the envelope', () => {
    it.each([
      [
        'invalid JSON',
        'POST',
        '/api/instances',
        { 'content-type': 'application/json' },
        '{"name": ',
        400,
        'VALIDATION_ERROR',
      ],
      [
        'deep nesting',
        'POST',
        '/api/instances',
        { 'content-type': 'application/json' },
        '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000),
        400,
        'VALIDATION_ERROR',
      ],
      [
        'deep arrays',
        'POST',
        '/api/instances',
        { 'content-type': 'application/json' },
        '['.repeat(100_000) + ']'.repeat(100_000),
        400,
        'VALIDATION_ERROR',
      ],
      [
        'a body over 1 MiB',
        'POST',
        '/api/instances',
        { 'content-type': 'application/json' },
        JSON.stringify({ name: 'x'.repeat(1_100_000) }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'a form body',
        'POST',
        '/api/instances/stop',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'instanceName=a',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a text body',
        'POST',
        '/api/instances',
        { 'content-type': 'text/plain' },
        'name=a',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a prototype-poisoning body',
        'POST',
        '/api/instances',
        { 'content-type': 'application/json' },
        '{"__proto__":{"admin":true}}',
        400,
        'VALIDATION_ERROR',
      ],
    ])('%s', async (_name, method, path, headers, body, status, code) => {
      const before = novitaCalls();
      const res = await raw(t, method, path, { headers, body });
      expect(res.status).toBe(status);
      expect(res.body).toEqual(envelope(code));
      expect(res.headers.get('x-request-id')).toBe(res.body.error.requestId);
      expect(novitaCalls()).toBe(before);
    });

    it('refuses control characters in any string field, naming the field', async () => {
      const res = await t.request('POST', '/api/instances', {
        name: 'ctl',
        productName: `RTX\u0000 4090`,
        templateId: TEMPLATE,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toEqual([
        { field: 'productName', messages: ['must not contain control characters'] },
      ]);
      const query = await t.request('GET', '/api/instances?name=a%07b');
      expect(query.status).toBe(400);
      expect(query.body.error.details.fields[0].field).toBe('name');
    });

    it('keeps path parameters to the documented lengths: 128 characters is an id, 129 a 400, 300 a 414', async () => {
      const ok = await t.request('GET', `/api/instances/${'a'.repeat(128)}`);
      expect(ok.status).toBe(404);
      const long = await t.request('GET', `/api/instances/${'a'.repeat(129)}`);
      expect(long.status).toBe(400);
      expect(long.body.error.details.fields[0].field).toBe('instanceId');
      const huge = await raw(t, 'GET', `/api/instances/${'a'.repeat(300)}`);
      expect(huge.status).toBe(414);
      expect(huge.body).toEqual(envelope('URI_TOO_LONG'));
      const bad = await raw(t, 'GET', '/api/instances/%E0%A4%A');
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual(envelope('VALIDATION_ERROR'));
    });
  });

  describe('create validates what Novita would refuse, before calling it', () => {
    const valid = { name: 'strict-create', productName: PRODUCT, templateId: TEMPLATE };
    it.each([
      ['an image URL with a scheme', { imageUrl: 'https://registry.example.com/x:1' }, 'imageUrl'],
      ['an image URL with spaces', { imageUrl: 'nginx latest' }, 'imageUrl'],
      ['an image URL over 500 characters', { imageUrl: `r/${'a'.repeat(499)}` }, 'imageUrl'],
      ['a reserved port', { ports: [{ port: 2223, type: 'http' }] }, 'ports.0.port'],
      ['port 0', { ports: [{ port: 0, type: 'http' }] }, 'ports.0.port'],
      ['port 65536', { ports: [{ port: 65536, type: 'tcp' }] }, 'ports.0.port'],
      ['a fractional port', { ports: [{ port: 80.5, type: 'tcp' }] }, 'ports.0.port'],
      ['an unknown port type', { ports: [{ port: 80, type: 'udp' }] }, 'ports.0.type'],
      [
        'a port listed twice',
        {
          ports: [
            { port: 80, type: 'http' },
            { port: 80, type: 'tcp' },
          ],
        },
        'ports',
      ],
      [
        '16 ports',
        { ports: Array.from({ length: 16 }, (_, i) => ({ port: 9000 + i, type: 'tcp' })) },
        'ports',
      ],
      [
        '101 env variables',
        { envs: Array.from({ length: 101 }, (_, i) => ({ key: `K${i}`, value: 'v' })) },
        'envs',
      ],
      ['an env name with "="', { envs: [{ key: 'A=B', value: 'v' }] }, 'envs.0.key'],
      [
        'an env value over 4095 characters',
        { envs: [{ key: 'A', value: 'v'.repeat(4096) }] },
        'envs.0.value',
      ],
      ['rootfsSize 6145', { rootfsSize: 6145 }, 'rootfsSize'],
      ['rootfsSize 9', { rootfsSize: 9 }, 'rootfsSize'],
      ['a negative templateId', { templateId: -1 }, 'templateId'],
      ['a fractional templateId', { templateId: 1.5 }, 'templateId'],
      ['a templateId object', { templateId: { id: 1 } }, 'templateId'],
    ])('refuses %s', async (_what, patch, field) => {
      const before = novitaCalls();
      const res = await t.request('POST', '/api/instances', { ...valid, ...patch });
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect(novitaCalls()).toBe(before);
    });

    it('accepts templateId as a number and sends it to Novita as text', async () => {
      const res = await t.request('POST', '/api/instances', {
        ...valid,
        name: 'numeric-template',
        templateId: 212,
      });
      expect(res.status).toBe(201);
      const lookups = t.sim.sim.callLog({ path: '/template' });
      expect(lookups[lookups.length - 1].query).toMatchObject({ templateId: '212' });
    });

    it('answers an unknown product name with a 404 naming it, not a 503', async () => {
      const res = await t.request('POST', '/api/instances', {
        ...valid,
        name: 'no-such-gpu',
        productName: 'Quantum 9000',
      });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining('"Quantum 9000"'),
        details: { productName: 'Quantum 9000' },
      });
      expect(
        t.sim.sim
          .callLog({ path: '/gpu/instance/create' })
          .filter((c) => c.body && (c.body as any).name === 'no-such-gpu'),
      ).toEqual([]);
    });
  });

  describe('upstream trouble keeps its own codes', () => {
    afterEach(() => t.sim.sim.clearFaults());

    it("turns Novita's 429 into a 503 UPSTREAM_RATE_LIMITED with Retry-After, not a 429", async () => {
      t.sim.sim.injectFaults({
        burst429: { count: 50, retryAfterSeconds: 120 },
        paths: ['/gpu/instance/create', '/products'],
      });
      const res = await raw(t, 'POST', '/api/instances', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'limited-upstream', productName: PRODUCT, templateId: TEMPLATE }),
      });
      expect(res.status).toBe(503);
      expect(res.body).toEqual(envelope('UPSTREAM_RATE_LIMITED'));
      expect(res.headers.get('retry-after')).toBe('120');
    });
  });
});
