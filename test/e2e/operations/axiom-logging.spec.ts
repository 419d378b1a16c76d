import { IncomingMessage, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ServiceProcess, startService, waitFor } from '../../support/service-process';

const API_KEY = 'axiom-test-key-that-must-never-leave';
const TOKEN = 'xaat-test-token';
const DATASET = 'control-plane-logs';

interface Ingest {
  path: string;
  authorization: string | undefined;
  events: Record<string, any>[];
}

/** An Axiom ingest endpoint on loopback: records every batch (gzip or plain NDJSON) and answers like Axiom. */
async function startFakeAxiom(): Promise<{ server: Server; url: string; ingests: Ingest[] }> {
  const ingests: Ingest[] = [];
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
  };
  const server = createServer((req, res) => {
    void read(req).then((body) => {
      const events = body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>);
      ingests.push({ path: req.url ?? '', authorization: req.headers.authorization, events });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ ingested: events.length, failed: 0, failures: [], processedBytes: body.length }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ingests };
}

// The real service ships its logs to a fake Axiom through the pino transport, redacted like the console.
describe('Axiom log shipping (service process)', () => {
  let axiom: Awaited<ReturnType<typeof startFakeAxiom>>;
  let svc: ServiceProcess;

  beforeAll(async () => {
    axiom = await startFakeAxiom();
    svc = await startService({
      NOVITA_API_KEY: 'sk_unused',
      NOVITA_API_BASE_URL: 'http://127.0.0.1:9/gpu-instance/openapi/v1',
      NOVITA_MAX_RETRIES: '0',
      API_KEYS: API_KEY,
      AXIOM_TOKEN: TOKEN,
      AXIOM_DATASET: DATASET,
      AXIOM_URL: axiom.url,
      LOG_LEVEL: 'info',
    });
  }, 90_000);

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    await new Promise((r) => axiom?.server.close(r));
  });

  it('sends the same redacted lines to Axiom as to the console', async () => {
    const res = await fetch(`${svc.url}/api/webhooks/deliveries`, {
      headers: { 'X-API-Key': API_KEY, 'X-Request-ID': 'axiom-req-1', Authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(200);

    const shipped = await waitFor(async () => {
      const all = axiom.ingests.flatMap((i) => i.events);
      return all.find((e) => e.requestId === 'axiom-req-1' && e.req?.headers) ?? false;
    }, 15_000);

    expect(axiom.ingests[0].path).toBe(`/v1/datasets/${DATASET}/ingest`);
    expect(axiom.ingests[0].authorization).toBe(`Bearer ${TOKEN}`);
    expect(shipped.req.headers['x-api-key']).toBe('[Redacted]');
    expect(shipped.req.headers.authorization).toBe('[Redacted]');
    expect(shipped.level).toBe('info');
    expect(shipped._time).toEqual(expect.any(Number));

    const consoleLine = svc.lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.requestId === 'axiom-req-1' && l.req?.headers);
    expect(consoleLine.req.headers).toEqual(shipped.req.headers);

    // The key appears nowhere in what left the process.
    const everything = JSON.stringify(axiom.ingests);
    expect(everything).not.toContain(API_KEY);
    expect(svc.lines.join('\n')).not.toContain(API_KEY);
    // Startup lines were shipped too.
    expect(
      axiom.ingests.flatMap((i) => i.events).some((e) => /Nest application successfully started/.test(e.msg)),
    ).toBe(true);
  }, 30_000);
});
