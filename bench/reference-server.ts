/**
 * The bare Fastify reference: the same routes and JSON bodies as the service (handed over in REF_BODIES,
 * fetched from the service first) with nothing else, so "service / bare" prices what the service adds
 * (guards, rate limiter, validation, store reads, logging) on the same machine and HTTP stack.
 * Env: REF_PORT, REF_BODIES = {"live": <body>, "instances": {"<id>": <body>}}, and optionally
 * REF_HEADERS = {"<name>": "<value>"}: headers added to every answer, so a second reference can send
 * as many header bytes as the service does (the client's parsing of them is part of any request rate).
 */
import Fastify from 'fastify';

const bodies = JSON.parse(process.env.REF_BODIES ?? '{}') as {
  live?: unknown;
  instances?: Record<string, unknown>;
};
// Serialised once, as the service's bodies are fixed for the run.
const live = JSON.stringify(bodies.live ?? { status: 'ok' });
const instances = new Map(Object.entries(bodies.instances ?? {}).map(([id, b]) => [id, JSON.stringify(b)]));

const headers = JSON.parse(process.env.REF_HEADERS ?? '{}') as Record<string, string>;

const app = Fastify({ logger: false });
if (Object.keys(headers).length > 0)
  app.addHook('onRequest', (_req, reply, done) => {
    void reply.headers(headers);
    done();
  });
app.get('/health/live', (_req, reply) => {
  void reply.type('application/json; charset=utf-8').send(live);
});
app.get<{ Params: { id: string } }>('/api/instances/:id', (req, reply) => {
  const body = instances.get(req.params.id);
  if (body === undefined) return reply.code(404).send({ error: 'not found' });
  return reply.type('application/json; charset=utf-8').send(body);
});

app.listen({ port: Number(process.env.REF_PORT ?? 0), host: '127.0.0.1' }).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
