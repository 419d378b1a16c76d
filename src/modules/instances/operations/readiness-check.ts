import { Injectable } from '@nestjs/common';
import { PortMapping } from '../../../infra/novita/novita.types';
import { ReadinessConfig } from '../../records/operation.types';

/**
 * The readiness check: one HTTP GET against the instance's public endpoint for an HTTP port.
 * Only port mappings of type http are probed (a TCP port such as 22 can never answer HTTP).
 */

export type ReadinessTarget =
  | { kind: 'skip'; reason: string }
  | { kind: 'probe'; port: number; url: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'invalid'; reason: string };

export function httpMappings(portMappings: PortMapping[]): PortMapping[] {
  return portMappings.filter((m) => String(m.type).toLowerCase() === 'http');
}

export function joinUrl(endpoint: string, path: string): string {
  const base = /^https?:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
  const suffix = path === '' || path === '/' ? '/' : path.startsWith('/') ? path : `/${path}`;
  return base.replace(/\/+$/, '') + suffix;
}

/** Decides what to probe, from the mappings Novita reports for a running instance. */
export function selectReadinessTarget(
  portMappings: PortMapping[],
  readiness: ReadinessConfig,
): ReadinessTarget {
  const http = httpMappings(portMappings);
  if (readiness.port === undefined) {
    if (http.length === 0) return { kind: 'skip', reason: 'no http port mapping' };
    const first = http[0];
    if (!first.endpoint) return { kind: 'wait', reason: `no endpoint yet for port ${first.port}` };
    return { kind: 'probe', port: Number(first.port), url: joinUrl(first.endpoint, readiness.path) };
  }
  const match = http.find((m) => Number(m.port) === readiness.port);
  if (!match) {
    const other = portMappings.find((m) => Number(m.port) === readiness.port);
    return {
      kind: 'invalid',
      reason: other
        ? `port ${readiness.port} is mapped as ${other.type}, not http; only http ports can be checked`
        : `port ${readiness.port} is not exposed by the instance (http ports: ${http.map((m) => m.port).join(', ') || 'none'})`,
    };
  }
  if (!match.endpoint) return { kind: 'wait', reason: `no endpoint yet for port ${match.port}` };
  return { kind: 'probe', port: readiness.port, url: joinUrl(match.endpoint, readiness.path) };
}

export interface ProbeResult {
  ok: boolean;
  httpStatus?: number;
  error?: string;
  durationMs: number;
}

/** 2xx and 3xx count as ready (redirects are not followed); anything else, or no answer in time, does not. */
export async function probeEndpoint(url: string, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { 'user-agent': 'novita-control-plane-readiness/1.0', 'cache-control': 'no-cache' },
    });
    await res.body?.cancel().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 400;
    return {
      ok,
      httpStatus: res.status,
      durationMs: Date.now() - started,
      ...(ok ? {} : { error: `HTTP ${res.status}` }),
    };
  } catch (err) {
    const name = (err as Error)?.name;
    const error =
      name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : describe(err);
    return { ok: false, error, durationMs: Date.now() - started };
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

/** The prober the reconciler uses; a class so tests can swap it for a fake. */
@Injectable()
export class ReadinessProber {
  probe(url: string, timeoutMs: number): Promise<ProbeResult> {
    return probeEndpoint(url, timeoutMs);
  }
}
