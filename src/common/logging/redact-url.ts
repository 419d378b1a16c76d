/** Query parameter names that may carry a credential: any name containing one of these words. */
const SENSITIVE_PARAM = /key|token|secret|password|passwd|signature|^sig$|^auth/i;

export const REDACTED = '[Redacted]';

export function isSensitiveParam(name: string): boolean {
  return SENSITIVE_PARAM.test(name);
}

/**
 * The URL as it may be logged: the value of every sensitive query parameter replaced, everything else
 * byte for byte (so logs still show what was asked). Works on paths ("/api/x?api_key=..") and full URLs.
 */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // A malformed escape is still judged by its raw text.
      }
      return isSensitiveParam(name) ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${redacted}${hash < 0 ? '' : url.slice(hash)}`;
}

/** A parsed query object with sensitive values replaced (pino logs req.query too). */
export function redactQueryObject(query: unknown): unknown {
  if (!query || typeof query !== 'object') return query;
  return Object.fromEntries(
    Object.entries(query as Record<string, unknown>).map(([k, v]) => [k, isSensitiveParam(k) ? REDACTED : v]),
  );
}
