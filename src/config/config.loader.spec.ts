import { ConfigValidationError, loadConfig } from './config.loader';

const base = { NOVITA_API_KEY: 'sk_test_key' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigValidationError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadConfig', () => {
  it('applies the spec defaults', () => {
    const c = loadConfig(base);
    expect(c.sync).toEqual({
      removeObsoleteInstances: false,
      obsoleteInstanceRetentionDays: 7,
      enableAutomaticSync: true,
      intervalMinutes: 30,
    });
    expect(c.migration.intervalMinutes).toBe(15);
    expect(c.migration.maxConcurrent).toBe(5);
    expect(c.autoStop.inactivityThresholdMinutes).toBe(20);
    expect(c.security.rateLimitMax).toBe(100);
    expect(c.store.kind).toBe('memory');
    expect(c.instances.regionFallbackOrder.slice(0, 3)).toEqual(['AS-SGP-02', 'CN-HK-01', 'AS-IN-01']);
  });

  it('names the variable and its range for an out-of-range value', () => {
    const problems = problemsOf({ ...base, SYNC_INTERVAL_MINUTES: '2' });
    expect(problems).toEqual(['SYNC_INTERVAL_MINUTES must be an integer from 5 to 1440 (got "2")']);
  });

  it('lists every bad variable at once', () => {
    const problems = problemsOf({
      ...base,
      SYNC_INTERVAL_MINUTES: '2',
      MIGRATION_MAX_CONCURRENT: '50',
      SYNC_ENABLE_AUTOMATIC_SYNC: 'maybe',
    });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/MIGRATION_MAX_CONCURRENT must be an integer from 1 to 20/);
    expect(problems.join('\n')).toMatch(/SYNC_ENABLE_AUTOMATIC_SYNC must be true or false/);
  });

  it('rejects non-numeric integers and bad URLs', () => {
    const problems = problemsOf({ ...base, PORT: 'abc', REDIS_URL: 'http://x' });
    expect(problems.some((p) => p.startsWith('PORT must be an integer from 1 to 65535'))).toBe(true);
    expect(problems.some((p) => p.startsWith('REDIS_URL must be a redis://'))).toBe(true);
  });

  it('requires NOVITA_API_KEY outside demo mode only', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^NOVITA_API_KEY is required/)]);
    expect(loadConfig({}, { demoMode: true }).app.demoMode).toBe(true);
  });

  it('refuses production without API keys unless explicitly allowed', () => {
    expect(problemsOf({ ...base, NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^API_KEYS must be set/),
    ]);
    expect(
      loadConfig({ ...base, NODE_ENV: 'production', ALLOW_UNAUTHENTICATED: 'true' }).security.apiKeys,
    ).toEqual([]);
  });

  it('chooses the store adapter from what is configured', () => {
    expect(loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379' }).store.kind).toBe('redis');
    expect(
      loadConfig({
        ...base,
        REDIS_URL: 'redis://127.0.0.1:6379',
        UPSTASH_REDIS_REST_URL: 'https://x.upstash.io',
        UPSTASH_REDIS_REST_TOKEN: 't',
      }).store.kind,
    ).toBe('upstash');
    expect(problemsOf({ ...base, UPSTASH_REDIS_REST_URL: 'https://x.upstash.io' })).toEqual([
      'UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together',
    ]);
  });

  it('checks that a whsec_ webhook secret is base64', () => {
    expect(problemsOf({ ...base, WEBHOOK_SECRET: 'whsec_not*base64*at*all!!' })).toEqual([
      'WEBHOOK_SECRET starting with whsec_ must be followed by valid base64',
    ]);
    const ok = `whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}`;
    expect(loadConfig({ ...base, WEBHOOK_SECRET: ok }).webhooks.secret).toBe(ok);
  });

  it('splits API keys and treats empty strings as unset', () => {
    const c = loadConfig({ ...base, API_KEYS: ' a , b,,', PORT: '' });
    expect(c.security.apiKeys).toEqual(['a', 'b']);
    expect(c.app.port).toBe(3000);
  });
});

describe('TRUST_PROXY and the failed-authentication budget', () => {
  it('defaults to the socket peer and a budget of 10 failures a minute', () => {
    const c = loadConfig(base);
    expect(c.security.trustProxy).toBe(false);
    expect(c.security.authFailureMaxAttempts).toBe(10);
    expect(c.security.authFailureWindowMs).toBe(60000);
  });

  it.each([
    ['true', true],
    ['false', false],
    ['2', 2],
    ['10.0.0.0/8', ['10.0.0.0/8']],
    ['loopback, 10.1.2.3,fd00::/8', ['loopback', '10.1.2.3', 'fd00::/8']],
  ])('parses TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ ...base, TRUST_PROXY: value }).security.trustProxy).toEqual(expected);
  });

  it.each(['yes', '0', '11', 'example.com', '10.0.0.0/8;rm', '1.2.3', '10.0.0.0/40'])(
    'refuses TRUST_PROXY=%s',
    (value) => {
      expect(problemsOf({ ...base, TRUST_PROXY: value })).toEqual([expect.stringMatching(/^TRUST_PROXY /)]);
    },
  );

  it('refuses an out-of-range budget', () => {
    expect(problemsOf({ ...base, AUTH_FAILURE_MAX_ATTEMPTS: '0' })).toEqual([
      expect.stringMatching(/^AUTH_FAILURE_MAX_ATTEMPTS must be an integer from 1 to 1000/),
    ]);
  });
});
