import { HttpService } from '@nestjs/axios';
import axios, { AxiosInstance } from 'axios';
import { NovitaConfig } from '../../../src/config/config.types';
import { HttpNovitaClient } from '../../../src/infra/novita/http-novita-client';
import { ResilienceOptions } from '../../../src/infra/novita/novita-resilience';
import type { RunningSimulator } from '../../../simulator';

/** One HTTP attempt as the client's axios instance saw it (real time, unlike the simulator's clock). */
export interface Attempt {
  method: string;
  url: string;
  at: number;
}

export interface TestClient {
  client: HttpNovitaClient;
  config: NovitaConfig;
  axios: AxiosInstance;
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

/** Builds the client the way a non-Nest caller would: `new HttpNovitaClient(new HttpService(axios.create()), config)`. */
export function buildTestClient(
  sim: Pick<RunningSimulator, 'apiKey' | 'baseUrl'>,
  overrides: Partial<NovitaConfig> = {},
  options?: ResilienceOptions,
): TestClient {
  const instance = axios.create();
  const attempts: Attempt[] = [];
  let inFlight = 0;
  let peak = 0;
  instance.interceptors.request.use((req) => {
    attempts.push({ method: (req.method ?? 'get').toUpperCase(), url: req.url ?? '', at: Date.now() });
    inFlight++;
    peak = Math.max(peak, inFlight);
    return req;
  });
  instance.interceptors.response.use(
    (res) => {
      inFlight--;
      return res;
    },
    (err) => {
      inFlight--;
      return Promise.reject(err);
    },
  );
  const config = testConfig(sim, overrides);
  const client = new HttpNovitaClient(new HttpService(instance), config, options);
  return { client, config, axios: instance, attempts, peakInFlight: () => peak };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
