import { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressRange, isPrivateAddress, webhookUrlProblem } from './webhook-url.policy';

export const WEBHOOK_USER_AGENT = 'novita-gpu-control-plane-webhooks/1.0';

export interface WebhookHttpRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivateTargets: boolean;
}

/** What one attempt produced: a status, or an error; refused means the target is not allowed (never retried). */
export interface WebhookHttpOutcome {
  status?: number;
  error?: string;
  refused?: boolean;
  durationMs: number;
}

class RefusedTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
}

/**
 * POSTs one webhook. The address check sits inside the socket's DNS lookup, so the address judged
 * is the address connected to (a second lookup by the HTTP client could otherwise be rebound to a
 * private address after the check passed). IP literals never reach lookup, so the URL is checked first.
 */
export async function postWebhook(req: WebhookHttpRequest): Promise<WebhookHttpOutcome> {
  const started = Date.now();
  const problem = webhookUrlProblem(req.url, req.allowPrivateTargets);
  if (problem) return { refused: true, error: `target refused: ${problem}`, durationMs: 0 };

  const url = new URL(req.url);
  const body = Buffer.from(req.body, 'utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<WebhookHttpOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<WebhookHttpOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, durationMs: Date.now() - started });
    };
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...req.headers, 'Content-Length': String(body.length) },
        lookup: guardedLookup(req.allowPrivateTargets),
        signal: AbortSignal.timeout(req.timeoutMs),
      },
      (response) => {
        // Only the status matters; drain the body so the socket is released.
        response.resume();
        response.on('error', () => undefined);
        finish({ status: response.statusCode ?? 0 });
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof RefusedTargetError) return finish({ refused: true, error: err.message });
      const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
      finish({ error: timedOut ? `timed out after ${req.timeoutMs} ms` : describeNetworkError(err) });
    });
    request.end(body);
  });
}

/** Exported for tests: the DNS step of postWebhook. */
export function guardedLookup(allowPrivateTargets: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(
      hostname,
      { family: options.family, hints: options.hints, all: true },
      (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const privateOne = addresses.find((a) => isPrivateAddress(a.address));
        if (privateOne && !allowPrivateTargets) {
          const refused = new RefusedTargetError(
            `target refused: ${hostname} resolves to ${privateOne.address} (${addressRange(privateOne.address)}), which is not a globally routable address`,
          );
          return callback(refused, '', 0);
        }
        if (addresses.length === 0)
          return callback(
            Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
            '',
            0,
          );
        // net asks for every address when it races families (autoSelectFamily), else for one.
        if (options.all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      },
    );
  };
}

function describeNetworkError(err: NodeJS.ErrnoException): string {
  return err.code ? `${err.code}: ${err.message}` : err.message;
}
