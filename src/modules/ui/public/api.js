// Talks to the service's own API (same origin). The key lives in sessionStorage, never in a URL.
const KEY_STORAGE = 'novita-cp.apiKey';

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE) ?? '',
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

/** JSON in, JSON out; failures become ApiError with the envelope's code, message and request id. */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const key = apiKey.get();
  if (key) headers['x-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `The service could not be reached (${err.message})`, null);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    const requestId = e.requestId ?? res.headers.get('x-request-id');
    let message = e.message ?? `HTTP ${res.status}`;
    if (res.status === 401) message = 'The API key was refused. Enter a valid key above.';
    if (res.status === 429) {
      const wait = res.headers.get('retry-after');
      message = `Too many requests${wait ? `; try again in ${wait} s` : ''}.`;
    }
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, message, requestId);
  }
  return data;
}

/** Reads that may not exist on every deployment (a feature turned off) resolve to null instead of failing. */
export async function optional(method, path) {
  try {
    return await api(method, path);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 503)) return null;
    throw err;
  }
}
