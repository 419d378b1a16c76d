import { RunningSimulator, startSimulator } from './index';
import { simFetcher } from './sim-test-client';

describe('simulator app endpoints', () => {
  let running: RunningSimulator;

  beforeEach(async () => {
    running = await startSimulator({ manualClock: true, appSlowMs: 300 });
  });
  afterEach(() => running.close());

  const endpointOf = (id: string): string => {
    const inst = running.sim.getInstance(id)!;
    return (inst.portMappings as { endpoint: string; type: string }[]).find((p) => p.type === 'http')!
      .endpoint;
  };

  it('answers 200 when running and healthy, 503 when unhealthy', async () => {
    const inst = running.sim.seedInstance({ status: 'running', ports: '8080/http' });
    const url = endpointOf(inst.id);
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/i/${inst.id}/8080$`));
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    running.sim.setAppHealth(inst.id, 'unhealthy');
    expect((await fetch(url)).status).toBe(503);
    running.sim.setAppHealth(inst.id, 'healthy');
    expect((await fetch(url)).status).toBe(200);
  });

  it('has no endpoint before running, and answers 503 once the instance stops', async () => {
    const inst = running.sim.seedInstance({ status: 'creating', ports: '8080/http' });
    expect(running.sim.getInstance(inst.id)!.portMappings).toEqual([
      { port: 8080, type: 'http', endpoint: '' },
    ]);
    running.sim.advance(60_000);
    const url = endpointOf(inst.id);
    expect((await fetch(url)).status).toBe(200);
    const call = simFetcher(running);
    await call('POST', '/gpu/instance/stop', { instanceId: inst.id });
    expect((await fetch(url)).status).toBe(503);
    running.sim.advance(60_000);
    expect((await fetch(url)).status).toBe(503);
  });

  it('answers 503 while the app boots when appBoot is set', async () => {
    await running.close();
    running = await startSimulator({ manualClock: true, timings: { appBoot: 10_000 } });
    const inst = running.sim.seedInstance({ status: 'running' });
    const url = endpointOf(inst.id);
    expect((await fetch(url)).status).toBe(503);
    running.sim.advance(10_000);
    expect((await fetch(url)).status).toBe(200);
  });

  it('a slow app answers 200 only after the configured delay', async () => {
    const inst = running.sim.seedInstance({ status: 'running', appHealth: 'slow' });
    const t0 = Date.now();
    expect((await fetch(endpointOf(inst.id))).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('404 for a port the instance does not expose', async () => {
    const inst = running.sim.seedInstance({ status: 'running', ports: '8080/http' });
    const other = endpointOf(inst.id).replace(/8080$/, '9999');
    expect((await fetch(other)).status).toBe(404);
  });
});
