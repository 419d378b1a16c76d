/**
 * The bare Fastify reference: the same routes and JSON bodies as the service (handed over in REF_BODIES,
 * fetched from the service first) with nothing else, so "service / bare" prices what the service adds
 * (guards, rate limiter, validation, store reads, logging) on the same machine and HTTP stack.
 * Env: REF_PORT, REF_BODIES = {"live": <body>, "instances": {"<id>": <body>}}.
 */
import Fastify from 'fastify';

const bodies = JSON.parse(process.env.REF_BODIES ?? '{}') as {
  live?: unknown;
  instances?: Record<string, unknown>;
};
// Serialised once, as the service's bodies are fixed for the run.
const live = JSON.stringify(bodies.live ?? { status: 'ok' });
const instances = new Map(Object.entries(bodies.instances ?? {}).map(([id, b]) => [id, JSON.stringify(b)]));

const app = Fastify({ logger: false });
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
