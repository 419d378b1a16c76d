import { InstancesE2e, startInstancesE2e } from './instances-e2e.harness';

const base = { productName: 'RTX 4090 24GB', templateId: '212' };

describe('instance reads, last-used and stop-all (e2e)', () => {
  let t: InstancesE2e;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startInstancesE2e({ AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES: '15' });
    for (const name of ['q-alpha', 'q-beta', 'q-gamma']) {
      const res = await t.request('POST', '/api/instances', { ...base, name });
      ids[name] = res.body.instanceId;
    }
    for (const name of Object.keys(ids)) await t.waitForEvent('instance.ready', ids[name]);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lists newest first with limit/offset and page/pageSize, filtered by name and status', async () => {
    const all = await t.request('GET', '/api/instances');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.instances.map((i: any) => i.name)).toEqual(['q-gamma', 'q-beta', 'q-alpha']);

    const page = await t.request('GET', '/api/instances?limit=1&offset=1');
    expect(page.body).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.body.instances.map((i: any) => i.name)).toEqual(['q-beta']);
    const page2 = await t.request('GET', '/api/instances?page=2&pageSize=2');
    expect(page2.body.instances.map((i: any) => i.name)).toEqual(['q-alpha']);

    expect(
      (await t.request('GET', '/api/instances?name=BETA')).body.instances.map((i: any) => i.name),
    ).toEqual(['q-beta']);
    expect((await t.request('GET', '/api/instances?status=ready')).body.total).toBe(3);
    expect((await t.request('GET', '/api/instances?status=stopped')).body.total).toBe(0);
    expect((await t.request('GET', '/api/instances?status=sleeping')).status).toBe(400);
    expect((await t.request('GET', '/api/instances?limit=0')).status).toBe(400);
  });

  it('pages by cursor in either order, filters by managed, and answers 400 for a bad cursor or order', async () => {
    const names = (res: { body: any }): string[] => res.body.instances.map((i: any) => i.name);
    const first = await t.request('GET', '/api/instances?limit=2');
    expect(names(first)).toEqual(['q-gamma', 'q-beta']);
    expect(first.body).toMatchObject({ total: 3, order: 'desc', nextCursor: expect.any(String) });
    const rest = await t.request('GET', `/api/instances?limit=2&cursor=${first.body.nextCursor}`);
    expect(names(rest)).toEqual(['q-alpha']);
    expect(rest.body.nextCursor).toBeNull();

    const asc = await t.request('GET', '/api/instances?order=asc&limit=2');
    expect(names(asc)).toEqual(['q-alpha', 'q-beta']);
    const ascRest = await t.request('GET', `/api/instances?limit=2&cursor=${asc.body.nextCursor}`);
    expect(ascRest.body.order).toBe('asc');
    expect(names(ascRest)).toEqual(['q-gamma']);

    expect((await t.request('GET', '/api/instances?managed=true')).body.total).toBe(3);
    expect((await t.request('GET', '/api/instances?managed=false')).body.total).toBe(0);
    expect(
      names(await t.request('GET', '/api/instances?name=q-&status=ready&managed=true&limit=1&offset=2')),
    ).toEqual(['q-alpha']);

    for (const query of [
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('{"s":"x","i":"a","o":"desc"}').toString('base64url')}`,
      `cursor=${first.body.nextCursor}&offset=1`,
      `cursor=${first.body.nextCursor}&page=2`,
      `cursor=${first.body.nextCursor}&order=asc`,
    ]) {
      const bad = await t.request('GET', `/api/instances?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({
        code: 'VALIDATION_ERROR',
        details: { fields: [{ field: 'cursor' }] },
      });
    }
    expect((await t.request('GET', '/api/instances?order=newest')).status).toBe(400);
  });

  it('gets one by id, 404 for an unknown id, 400 for a malformed id', async () => {
    const one = await t.request('GET', `/api/instances/${ids['q-alpha']}`);
    expect(one.body).toMatchObject({
      id: ids['q-alpha'],
      instanceId: ids['q-alpha'],
      name: 'q-alpha',
      status: 'ready',
      managed: true,
      stale: false,
    });
    expect(one.body.portMappings.filter((m: any) => m.type === 'http').map((m: any) => m.port)).toEqual([
      8080, 8888,
    ]);

    const unknown = await t.request('GET', '/api/instances/inst_doesnotexist');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
    expect((await t.request('GET', '/api/instances/ffffffffffffffff')).status).toBe(404);
    expect((await t.request('POST', '/api/instances/inst_doesnotexist/start')).status).toBe(404);
    expect((await t.request('GET', '/api/instances/bad%20id')).status).toBe(400);
  });

  it('merges local and Novita-only instances in the comprehensive listing', async () => {
    const foreign = t.sim.sim.seedInstance({ name: 'made-elsewhere', status: 'running' });
    const res = await t.request('GET', '/api/instances/comprehensive');
    expect(res.status).toBe(200);
    expect(res.body.novitaAvailable).toBe(true);
    expect(res.body.sources).toEqual({ local: 3, novita: 4, merged: 3 });
    const other = res.body.instances.find((i: any) => i.novitaInstanceId === foreign.id);
    expect(other).toMatchObject({ source: 'novita', managed: false, status: 'running' });
    expect(res.body.instances.filter((i: any) => i.source === 'merged')).toHaveLength(3);

    const localOnly = await t.request('GET', '/api/instances/comprehensive?includeNovitaOnly=false');
    expect(localOnly.body.total).toBe(3);
    // A Novita-only instance can be read by its Novita id.
    expect((await t.request('GET', `/api/instances/${foreign.id}`)).body).toMatchObject({
      managed: false,
      name: 'made-elsewhere',
    });
  });

  it('records last use and the idle deadline; rejects future times', async () => {
    const at = new Date(Date.now() - 60_000).toISOString();
    const res = await t.request('PUT', `/api/instances/${ids['q-alpha']}/last-used`, { lastUsedAt: at });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      instanceId: ids['q-alpha'],
      lastUsedAt: at,
      idleDeadline: new Date(Date.parse(at) + 15 * 60_000).toISOString(),
    });
    expect((await t.request('GET', `/api/instances/${ids['q-alpha']}`)).body.lastUsedAt).toBe(at);

    const now = await t.request('PUT', `/api/instances/${ids['q-beta']}/last-used`, {});
    expect(now.status).toBe(200);
    expect(Math.abs(Date.parse(now.body.lastUsedAt) - Date.now())).toBeLessThan(5_000);

    const future = await t.request('PUT', `/api/instances/${ids['q-alpha']}/last-used`, {
      lastUsedAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(future.status).toBe(400);
    expect(future.body.error.details.fields[0].field).toBe('lastUsedAt');
    expect(
      (await t.request('PUT', `/api/instances/${ids['q-alpha']}/last-used`, { lastUsedAt: 'yesterday' }))
        .status,
    ).toBe(400);
    expect((await t.request('PUT', '/api/instances/inst_nope/last-used', {})).status).toBe(404);
  });

  it('serves the cached state with stale: true when Novita is down', async () => {
    t.sim.sim.injectFaults({ errorRate: 1, errorStatus: 503, paths: ['/gpu/instance'] });
    try {
      const res = await t.request('GET', `/api/instances/${ids['q-gamma']}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'q-gamma',
        status: 'ready',
        stale: true,
        lastSyncedAt: expect.any(String),
      });
    } finally {
      t.sim.sim.clearFaults();
    }
  });

  it('stops every running managed instance with a result each (stop-all), leaving Novita-only ones alone', async () => {
    const res = await t.request('POST', '/api/instances/stop-all');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, count: 3, succeeded: 3, failed: 0 });
    expect(res.body.results.map((r: any) => r.name).sort()).toEqual(['q-alpha', 'q-beta', 'q-gamma']);
    const stops = t.sim.sim
      .callLog({ method: 'POST', path: '/gpu/instance/stop' })
      .map((c) => (c.body as any).instanceId);
    expect(stops).toHaveLength(3);
    const foreign = t.sim.sim.listInstances().find((i) => i.name === 'made-elsewhere')!;
    expect(stops).not.toContain(foreign.id);
    for (const id of Object.values(ids)) await t.waitForEvent('instance.stopped', id);
    // Nothing left running: a second stop-all has nothing to do.
    expect((await t.request('POST', '/api/instances/stop-all')).body).toMatchObject({ count: 0 });
  }, 30_000);

  it('keeps cursor pages stable when an instance is created between them', async () => {
    const everything = (await t.request('GET', '/api/instances')).body.instances.map((i: any) => i.id);
    const first = await t.request('GET', '/api/instances?limit=2');
    const created = await t.request('POST', '/api/instances', { ...base, name: 'q-delta' });
    expect(created.status).toBe(201);
    const second = await t.request('GET', `/api/instances?limit=100&cursor=${first.body.nextCursor}`);
    expect([...first.body.instances, ...second.body.instances].map((i: any) => i.id)).toEqual(everything);
    // An offset page would have shifted: the new instance is first in the list now.
    expect((await t.request('GET', '/api/instances?limit=1')).body.instances[0].id).toBe(
      created.body.instanceId,
    );
    await t.waitForEvent('instance.ready', created.body.instanceId);
  }, 30_000);
});
