import { ServiceProcess, startService, waitFor } from '../../support/service-process';

// `npm run demo` must work on a fresh machine: no credentials, no Redis, an embedded simulator.
describe('demo mode', () => {
  let svc: ServiceProcess;

  beforeAll(async () => {
    svc = await startService({}, { entry: 'demo.ts' });
  }, 90_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
  });

  it('is ready and serves Swagger UI', async () => {
    expect((await fetch(`${svc.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${svc.url}/docs`)).status).toBe(200);
  });

  it('prints a working demo API key', async () => {
    const line = await waitFor(async () => svc.lines.find((l) => l.includes('API key:')));
    const key = line.split('API key:')[1].trim();
    expect((await fetch(`${svc.url}/api/instances`)).status).toBe(401);
    expect((await fetch(`${svc.url}/api/instances`, { headers: { 'X-API-Key': key } })).status).toBe(200);
  });

  it('serves seeded instances from the embedded simulator in Novita format', async () => {
    const line = await waitFor(async () => svc.lines.find((l) => l.includes('Simulator:')));
    const [, url, token] = /Simulator:\s+(\S+)\s+\(Authorization: Bearer (\S+)\)/.exec(line)!;
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.total).toBeGreaterThanOrEqual(3);
    expect(body.instances.length).toBe(body.total);
    const statuses = new Set(body.instances.map((i: { status: string }) => i.status));
    expect(statuses.size).toBeGreaterThan(1);
    for (const inst of body.instances) {
      expect(inst.id).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof inst.gpuNum).toBe('string');
      expect(inst.createdAt).toMatch(/^\d+$/);
    }
    expect((await fetch(url)).status).toBe(401);
  });
});
