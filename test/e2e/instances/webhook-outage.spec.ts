import { waitFor } from '../../support/service-process';
import { InstancesE2e, startInstancesE2e } from './instances-e2e.harness';

// The whole service against the simulator while its webhook receiver is down: nothing is lost,
// attempts back off, and every delivery can be listed and replayed once the receiver is back.
describe('webhook deliveries while the receiver is down (e2e)', () => {
  let e2e: InstancesE2e;

  beforeAll(async () => {
    e2e = await startInstancesE2e({
      WEBHOOK_MAX_ATTEMPTS: '4',
      WEBHOOK_INITIAL_BACKOFF_MS: '200',
      WEBHOOK_MAX_BACKOFF_MS: '5000',
    });
  }, 90_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('retries with growing gaps, lists the failures, and replays them with the same event id', async () => {
    await e2e.receiver.stop();
    const created = await e2e.request('POST', '/api/instances', {
      name: 'hooks-down',
      productName: 'RTX 4090',
      imageUrl: 'nginx:latest',
      billingMode: 'onDemand',
    });
    expect(created.status).toBe(201);
    const instanceId = created.body.instanceId as string;

    const failed = await waitFor(async () => {
      const res = await e2e.request(
        'GET',
        `/api/webhooks/deliveries?instanceId=${instanceId}&event=instance.created`,
      );
      const d = res.body.deliveries?.[0];
      return d?.state === 'failed' ? d : undefined;
    }, 30_000);
    expect(failed.attempts).toHaveLength(4);
    const times = failed.attempts.map((a: { at: string }) => Date.parse(a.at));
    const gaps = times.slice(1).map((t: number, i: number) => t - times[i]);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1]);

    const byState = await e2e.request(
      'GET',
      `/api/webhooks/deliveries?instanceId=${instanceId}&state=failed`,
    );
    expect(byState.body.deliveries.map((d: { id: string }) => d.id)).toContain(failed.id);

    await e2e.receiver.restart();
    const replay = await e2e.request('POST', `/api/webhooks/deliveries/${failed.id}/redeliver`);
    expect(replay.status).toBe(202);
    const received = await e2e.waitForEvent('instance.created', instanceId);
    expect(received.verified).toBe(true);
    expect(received.headers['webhook-id']).toBe(failed.eventId);

    const delivered = await waitFor(async () => {
      const res = await e2e.request('GET', `/api/webhooks/deliveries/${failed.id}`);
      return res.body.state === 'delivered' ? res.body : undefined;
    });
    expect(delivered.attempts.length).toBe(5);
    expect(e2e.receiver.events.filter((e) => e.headers['webhook-id'] === failed.eventId)).toHaveLength(1);
  }, 60_000);

  it('answers 404 in the envelope for an unknown delivery', async () => {
    const res = await e2e.request('POST', `/api/webhooks/deliveries/whd_${'f'.repeat(24)}/redeliver`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});
