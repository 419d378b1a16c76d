import { CacheRegistry } from '../../infra/metrics/cache-registry';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { WebhookDeliveryRepository } from '../webhooks/webhook-delivery.repository';
import { SharedStateGauges } from './shared-state.gauges';

function gaugeLines(text: string, family: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(family + '{') || l.startsWith(family + ' '));
}

/** Sum of every sample of a family across the given expositions, as Prometheus' sum() would. */
function sumOf(texts: string[], family: string): number {
  return texts.flatMap((t) => gaugeLines(t, family)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

describe(SharedStateGauges.name, () => {
  const store = new MemoryStateStore();
  const instances = new InstanceRepository(store);
  const webhooks = new WebhookDeliveryRepository(store);

  function replica() {
    const metrics = new MetricsService(new CacheRegistry());
    const gauges = new SharedStateGauges(metrics, store, instances, webhooks);
    gauges.onModuleInit();
    return { metrics, gauges };
  }

  beforeAll(async () => {
    const record = (id: string, status: string, managed?: boolean) =>
      ({ id, name: id, status, ...(managed === undefined ? {} : { managed }) }) as unknown as InstanceRecord;
    await instances.save(record('inst_1', 'running'));
    await instances.save(record('inst_2', 'running', false));
    await instances.save(record('inst_3', 'stopped', true));
    await webhooks.schedule('whd_1', Date.now());
    await webhooks.schedule('whd_2', Date.now() + 60_000);
  });

  it('counts instances by status and managed flag (missing flag = managed) and the webhook queue', async () => {
    const a = replica();
    const text = await a.metrics.render();
    expect(gaugeLines(text, 'gpu_instances').sort()).toEqual([
      'gpu_instances{status="running",managed="false"} 1',
      'gpu_instances{status="running",managed="true"} 1',
      'gpu_instances{status="stopped",managed="true"} 1',
    ]);
    expect(gaugeLines(text, 'webhook_queue_depth')).toEqual(['webhook_queue_depth 2']);
    await a.gauges.onApplicationShutdown();
  });

  it('counts from the indexes once they are built, reading no record', async () => {
    await instances.buildIndexes();
    const a = replica();
    const getMany = jest.spyOn(store, 'getMany');
    const text = await a.metrics.render();
    expect(getMany).not.toHaveBeenCalled();
    getMany.mockRestore();
    expect(sumOf([text], 'gpu_instances')).toBe(3);
    expect(gaugeLines(text, 'gpu_instances')).toContain('gpu_instances{status="running",managed="false"} 1');
    await a.gauges.onApplicationShutdown();
  });

  it('reports the shared gauges from one replica only, so a sum over replicas counts each instance once', async () => {
    const a = replica();
    const b = replica();
    const texts = [await a.metrics.render(), await b.metrics.render()];
    expect(sumOf(texts, 'gpu_instances')).toBe(3);
    expect(sumOf(texts, 'webhook_queue_depth')).toBe(2);
    expect(texts.filter((t) => gaugeLines(t, 'gpu_instances').length > 0)).toHaveLength(1);

    // When the reporting replica stops, the other takes over on its next scrape.
    const [holder, other] = gaugeLines(texts[0], 'gpu_instances').length > 0 ? [a, b] : [b, a];
    await holder.gauges.onApplicationShutdown();
    expect(sumOf([await other.metrics.render()], 'gpu_instances')).toBe(3);
    await other.gauges.onApplicationShutdown();
  });
});
