import { Logger } from '@nestjs/common';
import http from 'node:http';
import net from 'node:net';
import { startSimulator, RunningSimulator } from '../../../simulator';
import { ErrorCode } from '../../../src/common/errors';
import { maxCallDurationMs } from '../../../src/infra/novita/novita-resilience';
import { buildTestClient, sleep } from './novita-test-client';

/** Timeouts, retries, Retry-After, the circuit breaker and the bulkhead, against injected simulator faults. */
describe('HttpNovitaClient (resilience)', () => {
  let server: RunningSimulator;
  let instanceId: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    server = await startSimulator({ seed: 11 });
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.sim.reset();
    instanceId = server.sim.seedInstance({ status: 'running' }).id;
  });

  const getCalls = () =>
    server.sim.callLog({ path: '/gpu/instance' }).filter((c) => c.path === '/gpu/instance');

  describe('retries', () => {
    it('should retry a 503 burst and succeed on the third attempt', async () => {
      const { client, onFailure } = buildTestClient(server, { maxRetries: 3 });
      server.sim.injectFaults({ errorRate: 1, errorStatus: 503, paths: ['/gpu/instance'] });
      // The simulator has no counted 5xx burst, so the test ends the storm after the second 503.
      let failures = 0;
      onFailure((err) => {
        if (err.response?.status === 503 && ++failures === 2) server.sim.clearFaults();
      });

      const instance = await client.getInstance(instanceId);

      expect(instance.id).toBe(instanceId);
      expect(getCalls().map((c) => c.status)).toEqual([503, 503, 200]);
    });

    it('should give up after maxRetries with UPSTREAM_UNAVAILABLE and record the error in health()', async () => {
      const { client, config } = buildTestClient(server, { maxRetries: 2, breakerThreshold: 10 });
      server.sim.injectFaults({ errorRate: 1, errorStatus: 500, paths: ['/gpu/instance'] });

      await expect(client.getInstance(instanceId)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_UNAVAILABLE,
        details: expect.objectContaining({ upstreamStatus: 500 }),
      });
      expect(getCalls()).toHaveLength(config.maxRetries + 1);
      expect(client.health().lastError).toMatch(/^UPSTREAM_UNAVAILABLE/);
    });

    it('should never retry a create after a 503', async () => {
      const { client } = buildTestClient(server, { maxRetries: 3 });
      const [product] = await client.listProducts({ productName: '4090', billingMethod: 'onDemand' });
      server.sim.injectFaults({ errorRate: 1, errorStatus: 503, paths: ['/gpu/instance/create'] });

      await expect(
        client.createInstance({ productId: product.id, gpuNum: 1, rootfsSize: 50, imageUrl: 'img' }),
      ).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_UNAVAILABLE });
      expect(server.sim.callLog({ path: '/gpu/instance/create' })).toHaveLength(1);
    });

    it('should never retry a create or a migrate that timed out (Novita may have acted on it)', async () => {
      const reclaimed = server.sim.seedInstance({
        status: 'exited',
        billingMode: 'spot',
        spotReclaimAt: server.sim.now() - 1000,
      });
      const { client } = buildTestClient(server, { maxRetries: 3 });
      const [product] = await client.listProducts({ productName: '4090', billingMethod: 'onDemand' });
      server.sim.injectFaults({ hang: true, paths: ['/gpu/instance/create', '/gpu/instance/migrate'] });

      await expect(
        client.createInstance({ productId: product.id, gpuNum: 1, rootfsSize: 50, imageUrl: 'img' }),
      ).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });
      await expect(client.migrateInstance(reclaimed.id)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_TIMEOUT,
      });
      expect(server.sim.callLog({ path: '/gpu/instance/create' })).toHaveLength(1);
      expect(server.sim.callLog({ path: '/gpu/instance/migrate' })).toHaveLength(1);
    });

    it('should retry a create that was refused before connecting', async () => {
      // A port with nothing listening: ECONNREFUSED proves the request never left this host.
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const { client, attempts, config } = buildTestClient(
        { apiKey: 'k', baseUrl: `http://127.0.0.1:${port}/gpu-instance/openapi/v1` },
        { maxRetries: 2 },
      );

      await expect(
        client.createInstance({ productId: 'p', gpuNum: 1, rootfsSize: 50, imageUrl: 'img' }),
      ).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_UNAVAILABLE,
        details: expect.objectContaining({ networkCode: 'ECONNREFUSED' }),
      });
      expect(attempts).toHaveLength(config.maxRetries + 1);
    });

    it('should retry stop, an idempotent action, after a 502', async () => {
      const { client, onFailure } = buildTestClient(server, { maxRetries: 2 });
      server.sim.injectFaults({ errorRate: 1, errorStatus: 502, paths: ['/gpu/instance/stop'] });
      onFailure(() => server.sim.clearFaults());

      await client.stopInstance(instanceId);

      expect(server.sim.callLog({ path: '/gpu/instance/stop' }).map((c) => c.status)).toEqual([502, 200]);
    });
  });

  describe('Retry-After', () => {
    it('should wait at least Retry-After before retrying a 429', async () => {
      const { client, attempts } = buildTestClient(server, { maxRetries: 2, retryMaxDelayMs: 50 });
      server.sim.injectFaults({ burst429: { count: 1, retryAfterSeconds: 1 } });

      await client.getInstance(instanceId);

      expect(getCalls().map((c) => c.status)).toEqual([429, 200]);
      expect(attempts).toHaveLength(2);
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(1000);
    });

    it('should surface UPSTREAM_RATE_LIMITED with retryAfterSeconds when Retry-After exceeds the cap, without retrying', async () => {
      const { client } = buildTestClient(server, { maxRetries: 3 }, { retryAfterCapMs: 500 });
      server.sim.injectFaults({ burst429: { count: 5, retryAfterSeconds: 2 } });

      await expect(client.getInstance(instanceId)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_RATE_LIMITED,
        retryAfterSeconds: 2,
      });
      expect(getCalls()).toHaveLength(1);
    });

    it('should end in UPSTREAM_RATE_LIMITED when the 429s outlast the retries, without tripping the breaker', async () => {
      const { client, config } = buildTestClient(server, { maxRetries: 2, breakerThreshold: 1 });
      server.sim.injectFaults({ burst429: { count: 10, retryAfterSeconds: 0 } });

      await expect(client.getInstance(instanceId)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_RATE_LIMITED,
      });
      expect(getCalls()).toHaveLength(config.maxRetries + 1);
      expect(client.health().circuit).toBe('closed');
    });
  });

  describe('timeouts', () => {
    it('should end a hung call at its timeout with UPSTREAM_TIMEOUT', async () => {
      const { client, config } = buildTestClient(server, { maxRetries: 0, timeoutMs: 300 });
      server.sim.injectFaults({ hang: true });

      const started = Date.now();
      await expect(client.getInstance(instanceId)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_TIMEOUT,
      });
      const elapsed = Date.now() - started;

      expect(elapsed).toBeGreaterThanOrEqual(config.timeoutMs - 5);
      expect(elapsed).toBeLessThan(maxCallDurationMs(config) + 250);
      expect(getCalls().map((c) => c.status)).toEqual([0]);
    });

    it('should time out each attempt separately and retry after a hang', async () => {
      const { client, config } = buildTestClient(server, { maxRetries: 2, timeoutMs: 300 });
      server.sim.injectFaults({ hang: { count: 1 } });

      const started = Date.now();
      const instance = await client.getInstance(instanceId);

      expect(instance.id).toBe(instanceId);
      expect(Date.now() - started).toBeGreaterThanOrEqual(config.timeoutMs - 5);
      expect(getCalls().map((c) => c.status)).toEqual([0, 200]);
    });

    it('should abort the socket of a timed-out attempt, not just stop waiting for it', async () => {
      let closedByClient = 0;
      const silent = http.createServer((req) => req.socket.on('close', () => closedByClient++));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as net.AddressInfo).port;
      try {
        const { client } = buildTestClient(
          { apiKey: 'k', baseUrl: `http://127.0.0.1:${port}` },
          { maxRetries: 0, timeoutMs: 100 },
        );
        await expect(client.listClusters()).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });
        await sleep(50);
        expect(closedByClient).toBe(1);
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  describe('circuit breaker', () => {
    it('should open under a 5xx storm, fail fast without calling Novita, and close after a half-open success', async () => {
      const { client, config } = buildTestClient(server, {
        maxRetries: 1,
        breakerThreshold: 3,
        breakerHalfOpenAfterMs: 300,
      });
      server.sim.injectFaults({ errorRate: 1, errorStatus: 500 });

      for (let i = 0; i < config.breakerThreshold; i++) {
        await expect(client.getInstance(instanceId)).rejects.toMatchObject({
          code: ErrorCode.UPSTREAM_UNAVAILABLE,
        });
      }
      expect(client.health().circuit).toBe('open');
      const callsWhenOpened = server.sim.callLog().length;
      expect(callsWhenOpened).toBe(config.breakerThreshold * (config.maxRetries + 1));

      const started = Date.now();
      await expect(client.getInstance(instanceId)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_UNAVAILABLE,
        details: expect.objectContaining({ circuit: 'open' }),
      });
      await expect(client.listClusters()).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_UNAVAILABLE });
      expect(Date.now() - started).toBeLessThan(config.timeoutMs);
      expect(server.sim.callLog()).toHaveLength(callsWhenOpened);

      server.sim.clearFaults();
      await sleep(config.breakerHalfOpenAfterMs + 50);
      const instance = await client.getInstance(instanceId);

      expect(instance.id).toBe(instanceId);
      expect(client.health().circuit).toBe('closed');
      expect(server.sim.callLog()).toHaveLength(callsWhenOpened + 1);
    });

    it('should open on repeated timeouts too', async () => {
      const { client, config } = buildTestClient(server, {
        maxRetries: 0,
        breakerThreshold: 2,
        timeoutMs: 150,
      });
      server.sim.injectFaults({ hang: true });

      for (let i = 0; i < config.breakerThreshold; i++) {
        await expect(client.getInstance(instanceId)).rejects.toMatchObject({
          code: ErrorCode.UPSTREAM_TIMEOUT,
        });
      }

      expect(client.health().circuit).toBe('open');
      await expect(client.getInstance(instanceId)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_UNAVAILABLE,
      });
      expect(getCalls()).toHaveLength(config.breakerThreshold);
    });
  });

  describe('bulkhead', () => {
    it('should keep at most maxConcurrent requests on the wire and queue the rest', async () => {
      const { client, config, peakInFlight } = buildTestClient(server, { maxConcurrent: 2, timeoutMs: 1000 });
      server.sim.injectFaults({ latencyMs: 80 });

      const results = await Promise.all(Array.from({ length: 6 }, () => client.getInstance(instanceId)));

      expect(results.every((r) => r.id === instanceId)).toBe(true);
      expect(peakInFlight()).toBe(config.maxConcurrent);
      expect(getCalls()).toHaveLength(6);
    });
  });
});
