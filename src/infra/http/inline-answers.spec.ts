import Fastify, { FastifyInstance } from 'fastify';
import { IncomingMessage, request } from 'node:http';
import { InlineAdmission, InlineAnswerParts, InlineRoute, registerInlineAnswers } from './inline-answers';

describe(registerInlineAnswers.name, () => {
  let app: FastifyInstance;
  let base: string;
  let handled: string[];
  let answer: jest.Mock;
  let admission: { mayEnter: jest.Mock; admit: jest.Mock };
  let parts: InlineAnswerParts & { passOn: jest.Mock; record: jest.Mock; logRequest: jest.Mock };
  let minted: number;

  const controller = class ThingsController {};
  const handler = function getThing() {};

  async function build(routes?: InlineRoute[]): Promise<void> {
    app = Fastify();
    handled = [];
    minted = 0;
    answer = jest.fn((id: string | undefined) =>
      id === 'known' ? JSON.stringify({ id, inline: true }) : undefined,
    );
    admission = {
      mayEnter: jest.fn(() => true),
      admit: jest.fn(() => ['x-ratelimit-remaining', 41]),
    };
    parts = {
      headers: { 'x-frame-options': 'DENY', 'cache-control': 'no-store' },
      requestId: (req: IncomingMessage) => String(req.headers['x-request-id'] ?? `minted-${++minted}`),
      clientAddress: (req: IncomingMessage) => req.socket.remoteAddress,
      passOn: jest.fn(() => false),
      record: jest.fn(),
      logRequest: jest.fn(),
    };
    registerInlineAnswers(
      app,
      routes ?? [
        { url: '/things/:id', controller, handler, json: answer },
        { url: '/live', controller, handler, json: () => '{"status":"ok"}' },
      ],
      admission as InlineAdmission,
      parts,
    );
    app.get('/things/:id', async (req) => {
      handled.push(req.url);
      return { id: (req.params as { id: string }).id, inline: false };
    });
    app.get('/live', async (req) => {
      handled.push(req.url);
      return { status: 'from fastify' };
    });
    app.post('/things/:id', async () => ({ posted: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }

  afterEach(() => app?.close());

  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(base + path, init);
    return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
  };

  it('answers a known record in the listener: Fastify’s handler never runs, the parts’ headers, log line and metrics are there', async () => {
    await build();
    const res = await get('/things/known');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'known', inline: true });
    expect(handled).toEqual([]);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBe(String(JSON.stringify(res.body).length));
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBe('minted-1');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('41');
    expect(admission.mayEnter).toHaveBeenCalledWith(
      expect.objectContaining({ url: '/things/known', ip: '127.0.0.1' }),
    );
    expect(admission.admit.mock.calls[0][1]).toMatchObject({ url: '/things/:id', controller, handler });
    expect(parts.logRequest).toHaveBeenCalledTimes(1);
    expect(parts.record).toHaveBeenCalledWith('/things/:id', 200, expect.any(Number));

    const echoed = await get('/live', { headers: { 'x-request-id': 'caller-7' } });
    expect(echoed.body).toEqual({ status: 'ok' });
    expect(echoed.headers.get('x-request-id')).toBe('caller-7');
    expect(parts.record).toHaveBeenLastCalledWith('/live', 200, expect.any(Number));
  });

  it('hands to Fastify what needs waiting, without admitting it', async () => {
    await build();
    expect((await get('/things/elsewhere')).body).toEqual({ id: 'elsewhere', inline: false });
    expect(admission.admit).not.toHaveBeenCalled();
    expect(parts.record).not.toHaveBeenCalled();
    expect(parts.logRequest).not.toHaveBeenCalled();
  });

  it('leaves the guards’ decision to Nest when the caller cannot be let in, or admitting needs the store', async () => {
    await build();
    admission.mayEnter.mockReturnValueOnce(false);
    expect((await get('/things/known')).body).toEqual({ id: 'known', inline: false });
    expect(answer).not.toHaveBeenCalled();
    admission.admit.mockReturnValueOnce(undefined);
    expect((await get('/things/known')).body).toEqual({ id: 'known', inline: false });
    expect(handled).toEqual(['/things/known', '/things/known']);
  });

  it('hands to Fastify when the answer fails, or the parts say so (draining, CORS)', async () => {
    await build();
    answer.mockImplementationOnce(() => {
      throw new Error('boom');
    });
    expect((await get('/things/known')).body).toEqual({ id: 'known', inline: false });
    parts.passOn.mockReturnValueOnce(true);
    expect((await get('/live')).body).toEqual({ status: 'from fastify' });
    expect(parts.record).not.toHaveBeenCalled();
  });

  it('answers exact paths of GET only: query strings, extra segments, other methods and bodies go to Fastify', async () => {
    await build();
    expect((await get('/things/known?x=1')).body).toEqual({ id: 'known', inline: false });
    expect((await get('/live?probe=1')).body).toEqual({ status: 'from fastify' });
    expect((await get('/things/')).body).toEqual({ id: '', inline: false });
    expect((await get('/things/known/more')).status).toBe(404);
    const head = await fetch(`${base}/things/known`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await get('/things/known', { method: 'POST' })).body).toEqual({ posted: true });
    expect(answer).not.toHaveBeenCalled();
    const withBody = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}/live`,
        { method: 'GET', headers: { 'content-type': 'text/plain', 'content-length': '6' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('a body');
    });
    expect(withBody).toBe(200);
    expect(answer).not.toHaveBeenCalled();
    expect(handled).toEqual(['/things/known?x=1', '/live?probe=1', '/things/', '/things/known', '/live']);
  });

  it('refuses to start when a route it was given is never registered, or has a parameter mid-path', async () => {
    await expect(build([{ url: '/renamed/:id', controller, handler, json: () => '{}' }])).rejects.toThrow(
      'inline answers for routes that do not exist: GET /renamed/:id',
    );
    await app.close();
    expect(() =>
      registerInlineAnswers(
        Fastify(),
        [{ url: '/a/:id/b', controller, handler, json: () => '{}' }],
        admission as InlineAdmission,
        parts,
      ),
    ).toThrow('one trailing parameter at most');
  });
});
