import { ServiceProcess, startService } from '../../support/service-process';

const API_KEY = 'auth-hardening-valid-key';
const BUDGET = 5;

// Wrong keys are counted per client address; TRUST_PROXY=loopback lets the test speak for other addresses
// through X-Forwarded-For the way an ingress on the same host would.
describe('authentication hardening (service process)', () => {
  let svc: ServiceProcess;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${svc.url}${path}`, { headers });

  beforeAll(async () => {
    svc = await startService({
      NOVITA_API_KEY: 'sk_unused',
      NOVITA_API_BASE_URL: 'http://127.0.0.1:9/gpu-instance/openapi/v1',
      NOVITA_MAX_RETRIES: '0',
      API_KEYS: API_KEY,
      AUTH_FAILURE_MAX_ATTEMPTS: String(BUDGET),
      AUTH_FAILURE_WINDOW_MS: '60000',
      RATE_LIMIT_MAX_REQUESTS: '100000',
      TRUST_PROXY: 'loopback',
    });
  }, 90_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
  });

  it('answers 429 with Retry-After once an address has spent its failed-authentication budget', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 120; i++) {
      const res = await get('/api/instances', { 'X-API-Key': `guess-${i}` });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    expect(statuses.slice(0, BUDGET)).toEqual(Array(BUDGET).fill(401));
    expect(statuses.slice(BUDGET)).toEqual(Array(120 - BUDGET).fill(429));
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await limited!.json()) as any;
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', requestId: expect.any(String) });

    // The blocked address cannot confirm a correct key either, while another address is unaffected.
    expect((await get('/api/instances', { 'X-API-Key': API_KEY })).status).toBe(429);
    expect(
      (await get('/api/instances', { 'X-API-Key': API_KEY, 'X-Forwarded-For': '203.0.113.50' })).status,
    ).toBe(200);
  });

  it('keeps one budget per forwarded client address when TRUST_PROXY trusts the proxy', async () => {
    const as = (ip: string, key: string) =>
      get('/api/instances', { 'X-API-Key': key, 'X-Forwarded-For': ip });
    for (let i = 0; i < BUDGET; i++) expect((await as('198.51.100.7', 'wrong')).status).toBe(401);
    expect((await as('198.51.100.7', 'wrong')).status).toBe(429);
    expect((await as('198.51.100.8', 'wrong')).status).toBe(401);
    expect((await as('198.51.100.8', API_KEY)).status).toBe(200);
  });

  it('redacts credentials in query strings and logs the forwarded client address', async () => {
    const res = await get('/api/instances?api_key=QSECRET-1&token=QSECRET-2&limit=5&name=visible-name', {
      'X-API-Key': API_KEY,
      'X-Forwarded-For': '198.51.100.99',
      'X-Request-ID': 'redaction-check',
    });
    // Unknown query parameters are refused; the refusal names them but never echoes their values.
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('QSECRET');
    await new Promise((r) => setTimeout(r, 300));
    expect(svc.lines.filter((l) => l.includes('QSECRET'))).toEqual([]);
    const line = svc.lines.find((l) => l.includes('"requestId":"redaction-check"') && l.includes('"url"'));
    expect(line).toBeDefined();
    const logged = JSON.parse(line!);
    expect(logged.req.url).toBe(
      '/api/instances?api_key=[Redacted]&token=[Redacted]&limit=5&name=visible-name',
    );
    expect(logged.req.remoteAddress).toBe('198.51.100.99');
  });
});
