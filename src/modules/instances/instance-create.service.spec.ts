import { AppError, ErrorCode } from '../../common/errors';
import { CreateInstanceSpec } from '../../infra/novita/novita.types';
import { buildInstancesHarness, InstancesHarness } from '../../../test/fakes/instances-unit-harness';

const body = (over: Record<string, unknown> = {}) =>
  ({ name: 'job-1', productName: 'RTX 4090', templateId: 't1', ...over }) as never;

describe('InstanceCreateService', () => {
  let h: InstancesHarness;
  beforeEach(() => {
    h = buildInstancesHarness();
  });

  it('creates in the preferred region with the template image, ports, envs and the cheapest spot price', async () => {
    const res = await h.creator.create(
      body({ region: 'CN-HK-01', gpuNum: 2, webhookUrl: 'https://hooks.example/x' }),
    );
    expect(res).toMatchObject({
      region: 'CN-HK-01',
      clusterId: 'cn-hk-1',
      productId: 'p-hk',
      billingMode: 'spot',
      pricePerGpu: 0.16,
      price: 0.32,
      status: 'creating',
      regionAttempts: [{ region: 'CN-HK-01', outcome: 'used' }],
    });
    const spec = h.novita.callsTo('createInstance')[0].args[0] as CreateInstanceSpec;
    expect(spec).toMatchObject({
      name: 'job-1',
      productId: 'p-hk',
      clusterId: 'cn-hk-1',
      gpuNum: 2,
      rootfsSize: 50,
      imageUrl: 'ghcr.io/x/web:1',
      ports: [
        { port: 8080, type: 'http' },
        { port: 22, type: 'tcp' },
      ],
      envs: [{ key: 'A', value: '1' }],
      command: 'serve',
      billingMode: 'spot',
      kind: 'gpu',
    });
    const record = await h.repo.get(res.instanceId);
    expect(record).toMatchObject({
      novitaInstanceId: res.novitaInstanceId,
      activeOperationId: res.operationId,
      webhookUrl: 'https://hooks.example/x',
    });
    expect(await h.operations.get(res.operationId)).toMatchObject({
      kind: 'create',
      phase: 'waiting_running',
    });
    expect(h.emitter.types()).toEqual(['instance.created']);
  });

  it('sends registry credentials inline for a template with a private image, and never stores them', async () => {
    const res = await h.creator.create(body({ templateId: 't2' }));
    const spec = h.novita.callsTo('createInstance')[0].args[0] as CreateInstanceSpec;
    expect(spec.imageAuth).toBe('bot:secret');
    expect(JSON.stringify(await h.repo.get(res.instanceId))).not.toContain('secret');
  });

  it('falls back to the next region when Novita answers insufficient resources, and says why', async () => {
    h.novita.fullClusters.add('as-sgp-2');
    h.novita.products[1] = { ...h.novita.products[1], availableDeploy: false };
    const res = await h.creator.create(body({ region: 'AS-SGP-02' }));
    expect(res.region).toBe('US-CA-06');
    expect(res.regionAttempts).toEqual([
      { region: 'AS-SGP-02', outcome: 'skipped', reason: 'Novita answered insufficient resources for p-sgp' },
      { region: 'CN-HK-01', outcome: 'skipped', reason: 'no capacity in CN-HK-01 (availableDeploy=false)' },
      { region: 'US-CA-06', outcome: 'used', reason: 'cheapest spot product with capacity: p-ca' },
    ]);
  });

  it("answers 503 with every region's reason when no region has capacity, and frees the name", async () => {
    for (const c of ['as-sgp-2', 'cn-hk-1', 'us-ca-6']) h.novita.fullClusters.add(c);
    const err = await h.creator.create(body()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: ErrorCode.INSUFFICIENT_RESOURCES });
    expect((err as AppError).details?.regionAttempts).toHaveLength(3);
    expect(await h.repo.findByName('job-1')).toBeNull();
    h.novita.fullClusters.clear();
    await expect(h.creator.create(body())).resolves.toMatchObject({ name: 'job-1' });
  });

  it("sends a capacity failure's event only to the global URL, never to the request's own URL", async () => {
    for (const c of ['as-sgp-2', 'cn-hk-1', 'us-ca-6']) h.novita.fullClusters.add(c);
    await expect(h.creator.create(body({ webhookUrl: 'https://hooks.example/never' }))).rejects.toMatchObject(
      {
        code: ErrorCode.INSUFFICIENT_RESOURCES,
      },
    );
    expect(h.emitter.emitted).toHaveLength(1);
    expect(h.emitter.emitted[0]).toMatchObject({
      type: 'instance.creation_failed',
      url: null,
      instanceWebhookUrl: null,
    });
  });

  it('sends nothing at all for a request that fails before the name is reserved', async () => {
    await expect(
      h.creator.create(body({ templateId: 'no-such-template', webhookUrl: 'https://hooks.example/never' })),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    expect(h.emitter.attempts).toEqual([]);
    expect(h.novita.callsTo('createInstance')).toEqual([]);
  });

  it('answers an unknown product name with 404 naming it, before any create call', async () => {
    const err = await h.creator.create(body({ productName: 'Quantum 9000' })).catch((e: AppError) => e);
    expect(err).toMatchObject({ code: ErrorCode.NOT_FOUND, details: { productName: 'Quantum 9000' } });
    expect((err as AppError).message).toContain('"Quantum 9000"');
    expect(h.novita.callsTo('createInstance')).toEqual([]);
    expect(await h.repo.findByName('job-1')).toBeNull();
  });

  it('refuses a name that is taken (409)', async () => {
    await h.creator.create(body());
    await expect(h.creator.create(body())).rejects.toMatchObject({ code: ErrorCode.NAME_TAKEN });
    expect(h.novita.callsTo('createInstance')).toHaveLength(1);
  });

  /** Well past any call budget and the not-found grace: the reconciler may settle every intent. */
  const afterSettle = () => Date.now() + 10 * 60_000;

  it('leaves a create whose outcome is unknown to the reconciler, which fails it and frees the name when Novita has nothing', async () => {
    h.novita.failNext('createInstance', new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'timeout'));
    await expect(h.creator.create(body(), 'key-1')).rejects.toMatchObject({
      code: ErrorCode.UPSTREAM_TIMEOUT,
    });
    const held = await h.repo.findByName('job-1');
    expect(held).toMatchObject({ status: 'creating', novitaInstanceId: null });
    const intent = await h.operations.get(held!.activeOperationId!);
    expect(intent).toMatchObject({ kind: 'create', phase: 'intent' });

    await h.reconciler.reconcileOnce(afterSettle());
    expect(await h.repo.findByName('job-1')).toBeNull();
    expect(await h.repo.get(held!.id)).toMatchObject({
      status: 'failed',
      lastError: { code: 'CREATE_FAILED' },
    });
    expect(h.emitter.types()).toEqual(['instance.creation_failed']);
    // The key answers that failure; no second instance is ever attempted with it.
    await expect(h.creator.create(body(), 'key-1')).rejects.toMatchObject({
      code: ErrorCode.UPSTREAM_UNAVAILABLE,
    });
    expect(h.novita.callsTo('createInstance')).toHaveLength(1);
    // The name is free: a new request (new key) creates it.
    await expect(h.creator.create(body(), 'key-2')).resolves.toMatchObject({ name: 'job-1' });
  });

  it('adopts the instance into the original record when Novita did create it, and answers the key with it', async () => {
    h.novita.failNext('createInstance', new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'socket hang up'));
    await expect(h.creator.create(body(), 'key-1')).rejects.toMatchObject({
      code: ErrorCode.UPSTREAM_UNAVAILABLE,
    });
    const held = (await h.repo.findByName('job-1'))!;
    // Novita had created it before the connection broke.
    h.novita.seed({ id: 'nv-late', name: 'job-1', status: 'creating', createdAt: Date.now() });
    // A same-named instance from long ago is someone else's, never adopted.
    h.novita.seed({ id: 'nv-old', name: 'job-1', status: 'running', createdAt: Date.now() - 86_400_000 });

    await h.reconciler.reconcileOnce(afterSettle());
    const adopted = await h.repo.get(held.id);
    expect(adopted).toMatchObject({ id: held.id, name: 'job-1', novitaInstanceId: 'nv-late', managed: true });
    expect((await h.operations.get(held.activeOperationId!))?.phase).toBe('waiting_running');
    expect(h.emitter.types()).toEqual(['instance.created']);
    const replay = await h.creator.create(body(), 'key-1');
    expect(replay).toMatchObject({ instanceId: held.id, novitaInstanceId: 'nv-late' });
    expect(h.novita.callsTo('createInstance')).toHaveLength(1);
  });

  it('makes one Novita create for five concurrent requests with one Idempotency-Key', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => h.creator.create(body(), 'same-key')));
    expect(h.novita.callsTo('createInstance')).toHaveLength(1);
    expect(new Set(results.map((r) => r.instanceId)).size).toBe(1);
  });

  it('uses an explicit image without a template', async () => {
    await h.creator.create(
      body({ templateId: undefined, imageUrl: 'docker.io/me/app:2', ports: [{ port: 7860, type: 'http' }] }),
    );
    expect(h.novita.callsTo('getTemplate')).toHaveLength(0);
    expect(h.novita.callsTo('createInstance')[0].args[0]).toMatchObject({
      imageUrl: 'docker.io/me/app:2',
      ports: [{ port: 7860, type: 'http' }],
      rootfsSize: 60,
    });
  });
});
