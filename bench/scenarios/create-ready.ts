/**
 * Creates instances through the service's API and waits for each to be ready (its signed
 * `instance.ready` webhook), a few at a time, spreading the creates over the replicas.
 */
import { httpRequest } from '../../test/e2e/instances/instances-e2e.harness';
import { ServiceProcess } from '../../test/support/service-process';
import { WebhookReceiver } from '../../test/support/webhook-receiver';

export interface CreatedInstance {
  name: string;
  instanceId: string;
  novitaInstanceId: string;
}

export interface CreateResult<T> {
  created: (CreatedInstance & T)[];
  /** One line per instance that was not created or did not become ready. */
  failures: string[];
}

/**
 * `afterReady` runs for each instance as soon as it is ready (e.g. to read its idle deadline before it
 * passes); what it returns is merged into that instance's result. A create that fails, or does not reach
 * ready within `readyTimeoutMs`, is reported in `failures` rather than thrown, so one slow instance on a
 * busy machine does not discard the others' measurements.
 */
export async function createReadyMany<T extends object = object>(opts: {
  replicas: ServiceProcess[];
  receiver: WebhookReceiver;
  names: string[];
  body: Record<string, unknown>;
  concurrency: number;
  readyTimeoutMs: number;
  afterReady?: (created: CreatedInstance, replica: ServiceProcess) => Promise<T>;
}): Promise<CreateResult<T>> {
  const created: (CreatedInstance & T)[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.names.length) {
      const i = next++;
      const name = opts.names[i];
      const replica = opts.replicas[i % opts.replicas.length];
      try {
        const res = await httpRequest(replica.url, 'POST', '/api/instances', { name, ...opts.body });
        if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
        const instanceId = String(res.body.instanceId);
        await opts.receiver.waitFor(
          (e) =>
            e.type === 'instance.ready' &&
            (e.payload as { instanceId?: string } | null)?.instanceId === instanceId,
          opts.readyTimeoutMs,
        );
        // The create answer may precede the Novita create call; once ready the record has the Novita id.
        const got = await httpRequest(replica.url, 'GET', `/api/instances/${instanceId}`);
        if (got.status !== 200 || !got.body?.novitaInstanceId)
          throw new Error(`no Novita id after ready: ${got.status} ${JSON.stringify(got.body)}`);
        const instance: CreatedInstance = { name, instanceId, novitaInstanceId: got.body.novitaInstanceId };
        const extra = opts.afterReady ? await opts.afterReady(instance, replica) : ({} as T);
        created.push({ ...instance, ...extra });
      } catch (err) {
        failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.names.length) }, worker));
  return { created, failures };
}
