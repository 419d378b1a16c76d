import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';
import { AppError, ErrorCode } from '../../common/errors';

/**
 * Where webhooks may go. A control plane that POSTs to user-supplied URLs must not become a proxy
 * into its own network (cloud metadata at 169.254.169.254, Redis on localhost, ...) nor into address
 * space that translates or tunnels to it (NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo), so only globally
 * routable unicast addresses are allowed unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true.
 *
 * The range table is ipaddr.js's (IANA special-purpose registries), not a hand-kept list: anything it
 * classifies other than "unicast" (private, loopback, link-local, CGNAT, benchmarking 198.18.0.0/15,
 * IETF 192.0.0.0/24, reserved 240.0.0.0/4, multicast, broadcast, documentation, ...) is refused.
 */
export function addressRange(address: string): string | null {
  if (isIP(address) === 0) return null;
  // process() turns IPv4-mapped IPv6 (::ffff:10.0.0.1) into the IPv4 address it stands for.
  return ipaddr.process(address).range();
}

/** True for a literal IP address that is not globally routable unicast. Hostnames are not addresses: false. */
export function isPrivateAddress(address: string): boolean {
  const range = addressRange(address);
  return range !== null && range !== 'unicast';
}

/** localhost, anything under .localhost (RFC 6761), with or without the trailing root dot. */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost');
}

/** The host part of a WHATWG URL without IPv6 brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Syntax only (what a DTO can check without config): null when fine, else the problem. */
export function webhookUrlSyntaxProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return 'must be a URL string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a valid absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username !== '' || url.password !== '') return 'must not embed credentials';
  return null;
}

/**
 * The full policy for a URL as written (before DNS): syntax plus, unless private targets are allowed,
 * no loopback hostname and no private IP literal. Delivery re-checks every resolved address.
 */
export function webhookUrlProblem(value: unknown, allowPrivateTargets: boolean): string | null {
  const syntax = webhookUrlSyntaxProblem(value);
  if (syntax || allowPrivateTargets) return syntax;
  const host = bareHostname(new URL(value as string));
  if (isLoopbackHostname(host))
    return 'must not target localhost (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow)';
  if (isPrivateAddress(host)) {
    return `must not target ${addressRange(host)} address space: only globally routable unicast addresses are allowed (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow private targets)`;
  }
  return null;
}

/** Throws AppError(VALIDATION_ERROR) when the URL is not an allowed webhook target. */
export function assertWebhookUrlAllowed(
  url: unknown,
  allowPrivateTargets: boolean,
  field = 'webhookUrl',
): void {
  const problem = webhookUrlProblem(url, allowPrivateTargets);
  if (problem) {
    throw new AppError(ErrorCode.VALIDATION_ERROR, `${field} ${problem}`, {
      fields: [{ field, messages: [`${field} ${problem}`] }],
    });
  }
}
