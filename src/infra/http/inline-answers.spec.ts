import Fastify, { FastifyInstance } from 'fastify';
import { InlineAdmission, InlineRoute, registerInlineAnswers } from './inline-answers';

describe(registerInlineAnswers.name, () => {
  let app: FastifyInstance;
  let handled: number;
  let responded: number;
  let answer: jest.Mock;
  let admission: { mayEnter: jest.Mock; admit: jest.Mock };

  const controller = class ThingsController {};
  const handler = function getThing() {};

  async function build(routes?: InlineRoute[]): Promise<void> {
    app = Fastify();
    handled = 0;
    responded = 0;
    answer = jest.fn((req: { params: { id: string } }) =>
      req.params.id === 'known' ? { id: 'known', inline: true } : undefined,
    );
    admission = { mayEnter: jest.fn(() => true), admit: jest.fn(() => true) };
    registerInlineAnswers(
      app,
      routes ?? [{ method: 'GET', url: '/things/:id', controller, handler, answer }],
      admission as InlineAdmission,
    );
    app.get('/things/:id', {
      onResponse: (_req, _reply, done) => {
        responded++;
        done();
      },
      handler: async (req) => {
        handled++;
        return { id: (req.params as { id: string }).id, inline: false };
      },
    });
    app.get('/other', async () => ({ other: true }));
    await app.ready();
  }

  afterEach(() => app.close());

  it('answers from the hook when it can: the handler never runs, the route’s own hooks still do', async () => {
    await build();
    const res = await app.inject({ method: 'GET', url: '/things/known' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 'known', inline: true });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(handled).toBe(0);
    expect(responded).toBe(1);
    expect(admission.admit).toHaveBeenCalledTimes(1);
    expect(admission.admit.mock.calls[0][2]).toMatchObject({ controller, handler });
  });

  it('passes the request on to the handler when the answer needs waiting, without admitting it', async () => {
    await build();
    const res = await app.inject({ method: 'GET', url: '/things/elsewhere' });
    expect(res.json()).toEqual({ id: 'elsewhere', inline: false });
    expect(handled).toBe(1);
    expect(admission.admit).not.toHaveBeenCalled();
  });

  it('leaves the guards’ decision to the handler’s path when the caller cannot be let in at once', async () => {
    await build();
    admission.mayEnter.mockReturnValue(false);
    const res = await app.inject({ method: 'GET', url: '/things/known' });
    expect(res.json()).toEqual({ id: 'known', inline: false });
    expect(answer).not.toHaveBeenCalled();
    expect(admission.admit).not.toHaveBeenCalled();
  });

  it('passes the request on when admitting it needs waiting (the rate-limit budget needs the store)', async () => {
    await build();
    admission.admit.mockReturnValue(false);
    const res = await app.inject({ method: 'GET', url: '/things/known' });
    expect(res.json()).toEqual({ id: 'known', inline: false });
    expect(handled).toBe(1);
  });

  it('passes the request on when the answer fails: the handler meets and reports the failure', async () => {
    await build();
    answer.mockImplementation(() => {
      throw new Error('boom');
    });
    const res = await app.inject({ method: 'GET', url: '/things/known' });
    expect(res.json()).toEqual({ id: 'known', inline: false });
  });

  it('touches no other route, nor the HEAD route Fastify adds', async () => {
    await build();
    expect((await app.inject({ method: 'GET', url: '/other' })).json()).toEqual({ other: true });
    const head = await app.inject({ method: 'HEAD', url: '/things/known' });
    expect(head.statusCode).toBe(200);
    expect(answer).toHaveBeenCalledTimes(0);
  });

  it('refuses to start when a route it was given is never registered', async () => {
    await expect(
      build([{ method: 'GET', url: '/renamed/:id', controller, handler, answer: () => ({}) }]),
    ).rejects.toThrow('inline answers for routes that do not exist: GET /renamed/:id');
  });
});
