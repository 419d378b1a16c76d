import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { joinUrl, probeEndpoint, selectReadinessTarget } from './readiness-check';

const mappings = [
  { port: 22, type: 'tcp', endpoint: '10.0.0.1:30022' },
  { port: 8080, type: 'http', endpoint: 'https://abc-8080.example/' },
  { port: 8888, type: 'http', endpoint: '' },
];

describe('readiness target selection', () => {
  it('probes the first http port (never a tcp one) with the path appended', () => {
    expect(selectReadinessTarget(mappings, { path: '/health', timeoutMs: 1000 })).toEqual({
      kind: 'probe',
      port: 8080,
      url: 'https://abc-8080.example/health',
    });
  });

  it('skips the check when there is no http port', () => {
    expect(selectReadinessTarget([mappings[0]], { path: '/', timeoutMs: 1000 }).kind).toBe('skip');
    expect(selectReadinessTarget([], { path: '/', timeoutMs: 1000 }).kind).toBe('skip');
  });

  it('waits while the requested port has no endpoint yet', () => {
    expect(selectReadinessTarget(mappings, { port: 8888, path: '/', timeoutMs: 1000 }).kind).toBe('wait');
  });

  it('refuses a tcp or unmapped port instead of waiting forever', () => {
    expect(selectReadinessTarget(mappings, { port: 22, path: '/', timeoutMs: 1000 })).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('tcp'),
    });
    expect(selectReadinessTarget(mappings, { port: 9000, path: '/', timeoutMs: 1000 })).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('not exposed'),
    });
  });

  it('joins endpoints and paths, adding a scheme when Novita gives host:port', () => {
    expect(joinUrl('host:8080', '/a')).toBe('http://host:8080/a');
    expect(joinUrl('http://h/x/', 'y')).toBe('http://h/x/y');
    expect(joinUrl('http://h', '/')).toBe('http://h/');
  });
});

describe('probeEndpoint', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') return void res.writeHead(200).end('ok');
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/elsewhere' }).end();
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(), 500);
      res.writeHead(503).end('booting');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('counts 2xx and 3xx as ready, without following redirects', async () => {
    await expect(probeEndpoint(`${base}/ok`, 1000)).resolves.toMatchObject({ ok: true, httpStatus: 200 });
    await expect(probeEndpoint(`${base}/redirect`, 1000)).resolves.toMatchObject({
      ok: true,
      httpStatus: 302,
    });
  });

  it('reports 5xx, timeouts and refused connections as not ready', async () => {
    await expect(probeEndpoint(`${base}/other`, 1000)).resolves.toMatchObject({
      ok: false,
      httpStatus: 503,
      error: 'HTTP 503',
    });
    await expect(probeEndpoint(`${base}/slow`, 100)).resolves.toMatchObject({
      ok: false,
      error: 'no answer within 100 ms',
    });
    const refused = await probeEndpoint('http://127.0.0.1:9/', 1000);
    expect(refused.ok).toBe(false);
    expect(refused.error).toBeTruthy();
  });
});
