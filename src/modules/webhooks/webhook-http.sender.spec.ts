import type { LookupAddress } from 'node:dns';

// The resolver is replaced so the test controls what a hostname resolves to; no lookup leaves the process.
const answers: Record<string, LookupAddress[]> = {
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '64:ff9b::a00:1', family: 6 },
  ],
  'public.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '2a00:1450:4001::200e', family: 6 },
  ],
  'benchmark.test': [{ address: '198.18.0.7', family: 4 }],
};
jest.mock('node:dns', () => ({
  lookup: (
    hostname: string,
    _options: unknown,
    callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ) => callback(null, answers[hostname] ?? []),
}));

import { guardedLookup } from './webhook-http.sender';

function resolve(hostname: string, allowPrivate: boolean, all = true) {
  return new Promise<{ err: Error | null; result: unknown }>((done) =>
    guardedLookup(allowPrivate)(hostname, { all }, ((err: Error | null, result: unknown) =>
      done({ err, result })) as never),
  );
}

describe('guardedLookup (connect-time check of every resolved address)', () => {
  it('refuses a host when any one of its addresses is not globally routable', async () => {
    const { err } = await resolve('mixed.test', false);
    expect(err?.message).toBe(
      'target refused: mixed.test resolves to 64:ff9b::a00:1 (rfc6052), which is not a globally routable address',
    );
  });

  it('refuses special-purpose IPv4 such as 198.18.0.0/15', async () => {
    expect((await resolve('benchmark.test', false)).err?.message).toMatch(/198\.18\.0\.7 \(reserved\)/);
  });

  it('passes every address through when all are public', async () => {
    const { err, result } = await resolve('public.test', false);
    expect(err).toBeNull();
    expect(result).toEqual(answers['public.test']);
    expect((await resolve('public.test', false, false)).result).toBe('93.184.216.34');
  });

  it('allows private answers when WEBHOOK_ALLOW_PRIVATE_TARGETS=true', async () => {
    expect((await resolve('mixed.test', true)).err).toBeNull();
  });

  it('reports a name without addresses as ENOTFOUND', async () => {
    expect((await resolve('nothing.test', false)).err).toMatchObject({ code: 'ENOTFOUND' });
  });
});
