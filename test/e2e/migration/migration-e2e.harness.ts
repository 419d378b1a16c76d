import { execFileSync } from 'node:child_process';
import Redis from 'ioredis';
import { RunningSimulator, startSimulator } from '../../../simulator';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService, waitFor } from '../../support/service-process';
import { ReceivedWebhook, WebhookReceiver } from '../../support/webhook-receiver';
import { FAST_TIMINGS, WEBHOOK_SECRET, httpRequest, serviceEnv } from '../instances/instances-e2e.harness';

export const TEMPLATE = '212'; // simulator template: http 8080 + 8888, tcp 22
export const MIGRATING_MS = 1_500;

/** The simulator (migrations take MIGRATING_MS), a signature-verifying receiver and a real redis-server. */
export interface MigrationE2e {
  sim: RunningSimulator;
  receiver: WebhookReceiver;
  redis: RedisServerHandle;
  prefix: string;
  env(extra?: Record<string, string>): Record<string, string>;
  start(extra?: Record<string, string>): Promise<ServiceProcess>;
  close(): Promise<void>;
}

export async function startMigrationE2e(prefix: string): Promise<MigrationE2e> {
  const sim = await startSimulator({ timings: { ...FAST_TIMINGS, migrating: MIGRATING_MS }, seed: 11 });
  const receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
  const redis = await startRedisServer();
  const services: ServiceProcess[] = [];
  const env = (extra: Record<string, string> = {}) =>
    serviceEnv(sim, receiver, { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, ...extra });
  return {
    sim,
    receiver,
    redis,
    prefix,
    env,
    async start(extra = {}) {
      const svc = await startService(env(extra), { timeoutMs: 90_000 });
      services.push(svc);
      return svc;
    },
    async close() {
      await Promise.all(services.map((s) => s.kill('SIGKILL')));
      await receiver.stop();
      await sim.close();
      await redis.stop();
    },
  };
}

export function api(svc: ServiceProcess) {
  return (method: string, url: string, body?: unknown) => httpRequest(svc.url, method, url, body);
}

/** Creates a managed instance through the API and waits until it is ready. */
export async function createReady(
  svc: ServiceProcess,
  receiver: WebhookReceiver,
  name: string,
  billingMode: 'spot' | 'onDemand' = 'spot',
): Promise<{ instanceId: string; novitaInstanceId: string }> {
  const res = await api(svc)('POST', '/api/instances', {
    name,
    productName: 'RTX 4090 24GB',
    templateId: TEMPLATE,
    billingMode,
  });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  await receiver.waitFor((e) => e.type === 'instance.ready' && about(e, res.body.instanceId), 30_000);
  return res.body;
}

export function about(e: ReceivedWebhook, instanceId: string): boolean {
  return (e.payload as { instanceId?: string })?.instanceId === instanceId;
}

/** Distinct events (by webhook-id) of one type about one instance: redeliveries of one event count once. */
export function eventsOf(receiver: WebhookReceiver, type: string, instanceId: string): ReceivedWebhook[] {
  const seen = new Map<string, ReceivedWebhook>();
  for (const e of receiver.events) if (e.type === type && about(e, instanceId)) seen.set(e.id ?? e.body, e);
  return [...seen.values()];
}

export function waitEvent(receiver: WebhookReceiver, type: string, instanceId: string, timeoutMs = 60_000) {
  return receiver.waitFor((e) => e.type === type && about(e, instanceId), timeoutMs);
}

/** Rewrites a stored instance record (as sync would write one it found on the account). */
export async function patchRecord(
  redisUrl: string,
  prefix: string,
  instanceId: string,
  patch: Record<string, unknown>,
): Promise<void> {
  const client = new Redis(redisUrl);
  try {
    const key = `${prefix}:instance:${instanceId}`;
    const raw = await client.get(key);
    if (!raw) throw new Error(`no record ${key}`);
    await client.set(key, JSON.stringify({ ...JSON.parse(raw), ...patch }));
  } finally {
    client.disconnect();
  }
}

/** Runs a jq filter over a JSON document with the jq binary, as the spec's monitoring scripts do. */
export function jq(filter: string, json: unknown, raw = false): string {
  return execFileSync('jq', [...(raw ? ['-r'] : []), filter], { input: JSON.stringify(json) })
    .toString()
    .trim();
}

export { waitFor };
