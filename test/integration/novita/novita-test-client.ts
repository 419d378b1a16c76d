import { NovitaConfig } from '../../../src/config/config.types';
import { HttpNovitaClient } from '../../../src/infra/novita/http-novita-client';
import { NodeNovitaTransport, NovitaHttpError, NovitaTransport } from '../../../src/infra/novita/novita-http';
import { ResilienceOptions } from '../../../src/infra/novita/novita-resilience';
import type { RunningSimulator } from '../../../simulator';

/** One HTTP attempt as the client's transport saw it (real time, unlike the simulator's clock). */
export interface Attempt {
  method: string;
  url: string;
  at: number;
}

export interface TestClient {
  client: HttpNovitaClient;
  config: NovitaConfig;
  /** Calls `listen` with every failed attempt (a non-2xx answer or a socket failure). */
  onFailure(listen: (err: NovitaHttpError) => void): void;
  attempts: Attempt[];
  /** Most requests the client had on the wire at once. */
  peakInFlight(): number;
}

/** Small timings so the suite stays fast; every test builds its own client, hence its own breaker. */
export function testConfig(
  sim: Pick<RunningSimulator, 'apiKey' | 'baseUrl'>,
  overrides: Partial<NovitaConfig> = {},
): NovitaConfig {
  return {
    apiKey: sim.apiKey,
    baseUrl: sim.baseUrl,
    timeoutMs: 300,
    maxRetries: 2,
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 50,
    breakerThreshold: 3,
    breakerHalfOpenAfterMs: 300,
    maxConcurrent: 8,
    ...overrides,
  };
}

/** Builds the client the way a non-Nest caller would (`new HttpNovitaClient(config)`), over a transport that records each attempt. */
export function buildTestClient(
  sim: Pick<RunningSimulator, 'apiKey' | 'baseUrl'>,
  overrides: Partial<NovitaConfig> = {},
  options?: ResilienceOptions,
): TestClient {
  const transport = new NodeNovitaTransport();
  const attempts: Attempt[] = [];
  const failureListeners: ((err: NovitaHttpError) => void)[] = [];
  let inFlight = 0;
  let peak = 0;
  const recording: NovitaTransport = {
    async request(req) {
      attempts.push({ method: req.method, url: req.url, at: Date.now() });
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await transport.request(req);
      } catch (err) {
        if (err instanceof NovitaHttpError) failureListeners.forEach((listen) => listen(err));
        throw err;
      } finally {
        inFlight--;
      }
    },
  };
  const config = testConfig(sim, overrides);
  const client = new HttpNovitaClient(config, options, recording);
  return {
    client,
    config,
    attempts,
    onFailure: (listen) => failureListeners.push(listen),
    peakInFlight: () => peak,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
