import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastify from 'fastify';
import { registerHttpMetrics, UNMATCHED_ROUTE } from './http-metrics';

describe(registerHttpMetrics.name, () => {
  async function appRecording() {
    const recorded: [string, string, number][] = [];
    const metrics = {
      recordHttp: (method: string, route: string, status: number) => recorded.push([method, route, status]),
    };
    const server = fastify();
    const app = { get: () => metrics, getHttpAdapter: () => ({ getInstance: () => server }) };
    registerHttpMetrics(app as unknown as NestFastifyApplication);
    // A route with its own onResponse hook keeps it.
    let ownHookRan = 0;
    server.get(
      '/things/:id',
      { onResponse: (_req, _reply, done) => (ownHookRan++, done()) },
      async () => ({}),
    );
    server.register(async (scoped) => scoped.post('/items', async () => ({})), { prefix: '/api' });
    await server.ready();
    return { server, recorded, ownHookRan: () => ownHookRan };
  }

  it('records each response once, under its route template or as unmatched', async () => {
    const { server, recorded, ownHookRan } = await appRecording();
    await server.inject({ method: 'GET', url: '/things/1' });
    await server.inject({ method: 'GET', url: '/things/2?x=1' });
    await server.inject({ method: 'HEAD', url: '/things/3' });
    await server.inject({ method: 'POST', url: '/api/items' });
    await server.inject({ method: 'GET', url: '/nothing/here' });
    expect(recorded).toEqual([
      ['GET', '/things/:id', 200],
      ['GET', '/things/:id', 200],
      ['HEAD', '/things/:id', 200],
      ['POST', '/api/items', 200],
      ['GET', UNMATCHED_ROUTE, 404],
    ]);
    expect(ownHookRan()).toBe(3); // GET twice, and the HEAD route Fastify derives from it
    await server.close();
  });
});
