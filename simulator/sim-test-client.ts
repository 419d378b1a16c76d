/** A tiny fetch wrapper for tests that talk to a running simulator over HTTP. */
import { RunningSimulator } from './index';

export interface SimResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export function simFetcher(running: RunningSimulator, apiKey: string | null = running.apiKey) {
  return async <T = any>(
    method: 'GET' | 'POST',
    path: string,
    payload?: unknown,
    signal?: AbortSignal,
  ): Promise<SimResponse<T>> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
    const res = await fetch(`${running.baseUrl}${path}`, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
      signal,
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as T) : (undefined as T),
      headers: res.headers,
    };
  };
}

/** A valid create body for the given product. */
export function createBody(productId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test-instance',
    productId,
    gpuNum: 1,
    rootfsSize: 20,
    imageUrl: 'ghcr.io/sim/app:1',
    kind: 'gpu',
    ports: '8080/http,22/tcp',
    ...extra,
  };
}
