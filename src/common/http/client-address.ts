import proxyaddr from '@fastify/proxy-addr';
import type { IncomingMessage } from 'node:http';

export type TrustProxy = boolean | number | string[];

/**
 * The client address as Fastify computes request.ip for the same TRUST_PROXY value, for code that
 * only sees the raw request (pino-http): the socket peer, or the first untrusted X-Forwarded-For hop.
 */
export function clientAddressResolver(trust: TrustProxy): (req: IncomingMessage) => string | undefined {
  if (trust === false) return (req) => req.socket?.remoteAddress;
  const trusts: (addr: string, i: number) => boolean =
    trust === true ? () => true : typeof trust === 'number' ? (_a, i) => i < trust : proxyaddr.compile(trust);
  return (req) => (req.socket ? proxyaddr(req, trusts) : undefined);
}
