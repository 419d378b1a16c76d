import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  ABORTED,
  BAD_BODY,
  NodeNovitaTransport,
  NovitaHttpError,
} from '../../../src/infra/novita/novita-http';

const KEY = 'sk_live_transport_secret';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP server answering with `handler`; records every request it got. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const request = (url: string, extra: Partial<Parameters<NodeNovitaTransport['request']>[0]> = {}) => ({
  method: 'GET' as const,
  url,
  headers: { Authorization: `Bearer ${KEY}`, Accept: 'application/json' },
  signal: new AbortController().signal,
  ...extra,
});

const failure = async (p: Promise<unknown>): Promise<NovitaHttpError> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NovitaHttpError);
    return err as NovitaHttpError;
  }
  throw new Error('the request did not fail');
};

describe('NodeNovitaTransport', () => {
  const transport = new NodeNovitaTransport();
  let closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.map((c) => c()));
    closers = [];
  });
  const server = async (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const s = await serve(handler);
    closers.push(s.close);
    return s;
  };

  it('sends the method, URL, headers and JSON body, and parses a JSON answer', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'nv-1', total: 2 }));
    });
    const body = JSON.stringify({ instanceId: 'nv-1', name: 'é' });
    const res = await transport.request(
      request(`${s.base}/gpu/instance/stop?pageNum=2`, { method: 'POST', body }),
    );
    expect(res).toMatchObject({ status: 200, data: { id: 'nv-1', total: 2 } });
    expect(s.seen).toHaveLength(1);
    expect(s.seen[0]).toMatchObject({ method: 'POST', url: '/gpu/instance/stop?pageNum=2', body });
    expect(s.seen[0].headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'content-length': String(Buffer.byteLength(body)),
    });
  });

  it("answers '' for an empty 2xx body", async () => {
    const s = await server((_req, res) => res.writeHead(200).end());
    expect((await transport.request(request(s.base))).data).toBe('');
  });

  it('rejects a non-2xx answer with its status, headers and body (JSON, or text when not JSON)', async () => {
    const s = await server((req, res) => {
      if (req.url === '/json') res.writeHead(429, { 'retry-after': '3' }).end('{"reason":"RATE"}');
      else res.writeHead(502).end('<html>bad gateway</html>');
    });
    const json = await failure(transport.request(request(`${s.base}/json`)));
    expect(json.response).toMatchObject({ status: 429, data: { reason: 'RATE' } });
    expect(json.response?.headers['retry-after']).toBe('3');
    expect(json.code).toBe('ERR_BAD_REQUEST');
    const text = await failure(transport.request(request(`${s.base}/text`)));
    expect(text.response).toMatchObject({ status: 502, data: '<html>bad gateway</html>' });
    expect(text.code).toBe('ERR_BAD_RESPONSE');
  });

  it('rejects a 2xx answer whose body is not JSON instead of passing it on as data', async () => {
    const s = await server((_req, res) => res.writeHead(200).end('<html>maintenance</html>'));
    const err = await failure(transport.request(request(s.base)));
    expect(err.code).toBe(BAD_BODY);
    expect(err.response).toBeUndefined();
  });

  it('follows no redirect: a 3xx is a failure and its target is never asked', async () => {
    const target = await server((_req, res) => res.writeHead(200).end('{}'));
    const s = await server((_req, res) => res.writeHead(302, { location: `${target.base}/elsewhere` }).end());
    const err = await failure(transport.request(request(s.base)));
    expect(err.response?.status).toBe(302);
    expect(target.seen).toHaveLength(0);
  });

  it('aborts through the signal, closing the connection', async () => {
    let closed = false;
    const s = await serve((req) => req.socket.once('close', () => (closed = true)));
    closers.push(s.close);
    const abort = new AbortController();
    const pending = transport.request(request(s.base, { signal: abort.signal }));
    while (s.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    const err = await failure(pending);
    expect(err.code).toBe(ABORTED);
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 5));
    expect(closed).toBe(true);
    // An already aborted signal sends nothing.
    const before = s.seen.length;
    expect((await failure(transport.request(request(s.base, { signal: abort.signal })))).code).toBe(ABORTED);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.seen.length).toBe(before);
  });

  it('names a socket failure by its code, and never carries the request (the key) in the error', async () => {
    const s = await serve(() => undefined);
    await s.close();
    const refused = await failure(transport.request(request(s.base)));
    expect(refused.code).toBe('ECONNREFUSED');
    expect(refused.response).toBeUndefined();
    const answered = await server((_req, res) => res.writeHead(401).end('{"message":"bad key"}'));
    for (const err of [refused, await failure(transport.request(request(answered.base)))]) {
      const dump = JSON.stringify({ ...err, message: err.message, stack: err.stack });
      expect(dump).not.toContain(KEY);
    }
  });
});
