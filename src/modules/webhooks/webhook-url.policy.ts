import { BlockList, isIP } from 'node:net';
import { AppError, ErrorCode } from '../../common/errors';

/**
 * Where webhooks may go. A control plane that POSTs to user-supplied URLs must not become a proxy
 * into its own network (cloud metadata at 169.254.169.254, Redis on localhost, ...), so private,
 * link-local and loopback targets are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true.
 */
const REFUSED = new BlockList();
// Loopback.
REFUSED.addSubnet('127.0.0.0', 8, 'ipv4');
REFUSED.addAddress('::1', 'ipv6');
// Private (RFC 1918), link-local (incl. cloud metadata), CGNAT shared space.
REFUSED.addSubnet('10.0.0.0', 8, 'ipv4');
REFUSED.addSubnet('172.16.0.0', 12, 'ipv4');
REFUSED.addSubnet('192.168.0.0', 16, 'ipv4');
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED.addSubnet('100.64.0.0', 10, 'ipv4');
// "This network": Linux connects 0.0.0.0 to the local host.
REFUSED.addSubnet('0.0.0.0', 8, 'ipv4');
// Unspecified and IPv4-compatible (::a.b.c.d, deprecated) addresses.
REFUSED.addSubnet('::', 96, 'ipv6');
// Unique local and link-local IPv6.
REFUSED.addSubnet('fc00::', 7, 'ipv6');
REFUSED.addSubnet('fe80::', 10, 'ipv6');

/**
 * True for loopback/private/link-local addresses. BlockList judges IPv4-mapped IPv6 (::ffff:10.0.0.1,
 * ::ffff:a00:1) by its IPv4 address, so the mapping cannot be used to slip past the IPv4 rules.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return REFUSED.check(address, family === 4 ? 'ipv4' : 'ipv6');
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
  if (url.hostname === '') return 'must have a host';
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
    return 'must not target a private, link-local or loopback address (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow)';
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
