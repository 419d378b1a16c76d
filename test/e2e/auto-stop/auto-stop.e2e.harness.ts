import Redis from 'ioredis';
import { RunningSimulator, startSimulator } from '../../../simulator';
import { decodeValue, encodeValue } from '../../../src/infra/store/store-keys';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService } from '../../support/service-process';
import { ReceivedWebhook, WebhookReceiver } from '../../support/webhook-receiver';
import { FAST_TIMINGS, WEBHOOK_SECRET, httpRequest, serviceEnv } from '../instances/instances-e2e.harness';

export const TEMPLATE = '212';

/** Simulator, signature-checking receiver, a real redis-server, and any number of service replicas on it. */
export interface AutoStopE2e {
  sim: RunningSimulator;
  receiver: WebhookReceiver;
  redis: RedisServerHandle;
  client: Redis;
  prefix: string;
  replicas: ServiceProcess[];
  env: Record<string, string>;
  start(): Promise<ServiceProcess>;
  request(
    method: string,
    url: string,
    body?: unknown,
    replica?: number,
  ): Promise<{ status: number; body: any }>;
  createReady(
    name: string,
    extra?: Record<string, unknown>,
  ): Promise<{ instanceId: string; novitaInstanceId: string }>;
  waitForEvent(type: string, instanceId: string, timeoutMs?: number): Promise<ReceivedWebhook>;
  eventsOf(instanceId: string, type?: string): ReceivedWebhook[];
  stopCalls(novitaId: string): { at: number; status: number }[];
  deleteCalls(novitaId: string): { at: number; status: number }[];
  /** Rewrites a stored instance record (the test plays sync or a crash). */
  patchRecord(instanceId: string, patch: Record<string, unknown>): Promise<void>;
  deadlineMembers(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startAutoStopE2e(extraEnv: Record<string, string>, seed = 21): Promise<AutoStopE2e> {
  const redis = await startRedisServer();
  const sim = await startSimulator({ timings: FAST_TIMINGS, seed });
  const receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
  const prefix = `e2e-autostop-${seed}`;
  const env = serviceEnv(sim, receiver, { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, ...extraEnv });
  const client = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  const replicas: ServiceProcess[] = [];
  const about = (e: ReceivedWebhook, id: string) => (e.payload as { instanceId?: string })?.instanceId === id;
  const calls = (path: string, novitaId: string) =>
    sim.sim
      .callLog({ path })
      .filter((c) => (c.body as { instanceId?: string } | null)?.instanceId === novitaId)
      .map((c) => ({ at: c.at, status: c.status }));

  const t: AutoStopE2e = {
    sim,
    receiver,
    redis,
    client,
    prefix,
    replicas,
    env,
    async start() {
      const svc = await startService(env);
      replicas.push(svc);
      return svc;
    },
    request: (method, url, body, replica = 0) => httpRequest(replicas[replica].url, method, url, body),
    async createReady(name, extra = {}) {
      const res = await t.request('POST', '/api/instances', {
        name,
        productName: 'RTX 4090 24GB',
        templateId: TEMPLATE,
        ...extra,
      });
      if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      await t.waitForEvent('instance.ready', res.body.instanceId, 30_000);
      return res.body;
    },
    waitForEvent: (type, instanceId, timeoutMs = 30_000) =>
      receiver.waitFor((e) => e.type === type && about(e, instanceId), timeoutMs),
    eventsOf: (instanceId, type) =>
      receiver.events.filter((e) => about(e, instanceId) && (!type || e.type === type)),
    stopCalls: (novitaId) => calls('/gpu/instance/stop', novitaId),
    deleteCalls: (novitaId) => calls('/gpu/instance/delete', novitaId),
    async patchRecord(instanceId, patch) {
      const key = `${prefix}:instance:${instanceId}`;
      const current = decodeValue<Record<string, unknown>>(await client.get(key));
      if (!current) throw new Error(`no record ${instanceId}`);
      await client.set(key, encodeValue({ ...current, ...patch }));
    },
    deadlineMembers: () => client.zrange(`${prefix}:autostop:deadlines`, 0, -1),
    async close() {
      await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
      client.disconnect();
      await receiver.stop();
      await sim.close();
      await redis.stop();
    },
  };
  return t;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
