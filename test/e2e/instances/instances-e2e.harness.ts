import { RunningSimulator, startSimulator } from '../../../simulator';
import { ServiceProcess, startService } from '../../support/service-process';
import { ReceivedWebhook, WebhookReceiver } from '../../support/webhook-receiver';

export const API_KEY = 'e2e-instances-key';
export const WEBHOOK_SECRET = `whsec_${Buffer.from('instances-e2e-webhook-secret-0123456789').toString('base64')}`;

/** Short simulated phases so a create or start reaches running within a second or two. */
export const FAST_TIMINGS = {
  pending: 0,
  toCreate: 150,
  creating: 150,
  pulling: 150,
  toStart: 100,
  starting: 150,
  toStop: 100,
  stopping: 150,
  toRemove: 100,
  removing: 100,
  removedListTtl: 2_000,
};

/** Environment for the service: simulator as Novita, the receiver as global webhook target, fast loops. */
export function serviceEnv(
  sim: RunningSimulator,
  receiver: WebhookReceiver,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NOVITA_API_KEY: sim.apiKey,
    NOVITA_API_BASE_URL: sim.baseUrl,
    NOVITA_MAX_RETRIES: '1',
    NOVITA_RETRY_BASE_DELAY_MS: '50',
    NOVITA_RETRY_MAX_DELAY_MS: '100',
    API_KEYS: API_KEY,
    RATE_LIMIT_MAX_REQUESTS: '100000',
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_WORKER_INTERVAL_MS: '50',
    WEBHOOK_INITIAL_BACKOFF_MS: '50',
    WEBHOOK_MAX_BACKOFF_MS: '500',
    OPERATIONS_RECONCILE_INTERVAL_MS: '200',
    HEALTH_CHECK_RETRY_DELAY_MS: '100',
    HEALTH_CHECK_TIMEOUT_MS: '1000',
    INSTANCE_CACHE_STALE_MS: '0',
    REGION_FALLBACK_ORDER: 'AS-SGP-02,CN-HK-01,US-CA-06',
    DEFAULT_REGION: 'AS-SGP-02',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
    // No load balancer to take the process out of rotation: close() need not wait for one.
    SHUTDOWN_DELAY_MS: '100',
    ...extra,
  };
}

export interface InstancesE2e {
  sim: RunningSimulator;
  receiver: WebhookReceiver;
  svc: ServiceProcess;
  request(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  /** Waits for a webhook of `type` about `instanceId` (optionally of one operation). */
  waitForEvent(
    type: string,
    instanceId: string,
    operationId?: string,
    timeoutMs?: number,
  ): Promise<ReceivedWebhook>;
  eventsFor(instanceId: string): ReceivedWebhook[];
  close(): Promise<void>;
}

/** Sends a request to the service with the API key; JSON in and out. */
export async function httpRequest(
  baseUrl: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(baseUrl + url, {
    method,
    headers: {
      'x-api-key': API_KEY,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * The whole service as a child process (src/main.ts through ts-node), the simulator and a
 * signature-verifying receiver in the test process. A child process rather than createApp() in
 * jest: jest's module loader cannot load an ESM-only dependency of @fastify/static (content-disposition)
 * that Node itself requires fine.
 */
export async function startInstancesE2e(env: Record<string, string> = {}): Promise<InstancesE2e> {
  const sim = await startSimulator({ timings: FAST_TIMINGS, seed: 7 });
  const receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
  const svc = await startService(serviceEnv(sim, receiver, env));

  const about = (e: ReceivedWebhook, instanceId: string, operationId?: string): boolean => {
    const p = e.payload as { instanceId?: string; data?: { operation?: { operationId?: string } } };
    return p?.instanceId === instanceId && (!operationId || p.data?.operation?.operationId === operationId);
  };
  return {
    sim,
    receiver,
    svc,
    request: (method, url, body, headers) => httpRequest(svc.url, method, url, body, headers),
    waitForEvent(type, instanceId, operationId, timeoutMs = 15_000) {
      return receiver.waitFor((e) => e.type === type && about(e, instanceId, operationId), timeoutMs);
    },
    eventsFor(instanceId) {
      return receiver.events.filter((e) => about(e, instanceId));
    },
    async close() {
      await svc.kill('SIGTERM');
      await receiver.stop();
      await sim.close();
    },
  };
}
