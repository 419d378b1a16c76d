import { ConfigValidationError, DEFAULT_AXIOM_URL, loadConfig } from './config.loader';

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

describe('operations settings', () => {
  it('defaults: metrics open, no CORS, no Axiom, 5 s delay within a 30 s shutdown', () => {
    expect(loadConfig(base).operations).toEqual({
      metricsRequireKey: false,
      corsOrigins: [],
      axiom: undefined,
      shutdownDelayMs: 5000,
      shutdownTimeoutMs: 30000,
    });
  });

  it('reads CORS origins as a list and rejects what is not an origin list', () => {
    const c = loadConfig({ ...base, CORS_ORIGINS: 'https://ops.example.com/,http://localhost:5173' });
    expect(c.operations.corsOrigins).toEqual(['https://ops.example.com', 'http://localhost:5173']);
    expect(problemsOf({ ...base, CORS_ORIGINS: '*' })).toEqual([
      expect.stringMatching(/^CORS_ORIGINS must be/),
    ]);
  });

  it('ships logs to Axiom only with both token and dataset', () => {
    expect(problemsOf({ ...base, AXIOM_TOKEN: 'xaat-1' })).toEqual([
      expect.stringContaining('AXIOM_TOKEN and AXIOM_DATASET must be set together'),
    ]);
    expect(loadConfig({ ...base, AXIOM_TOKEN: 'xaat-1', AXIOM_DATASET: 'logs' }).operations.axiom).toEqual({
      token: 'xaat-1',
      dataset: 'logs',
      url: DEFAULT_AXIOM_URL,
    });
    const custom = loadConfig({
      ...base,
      AXIOM_TOKEN: 't',
      AXIOM_DATASET: 'd',
      AXIOM_URL: 'http://127.0.0.1:9999',
    });
    expect(custom.operations.axiom?.url).toBe('http://127.0.0.1:9999');
  });

  it('needs API keys before /metrics can require one', () => {
    expect(problemsOf({ ...base, METRICS_REQUIRE_KEY: 'true' })).toEqual([
      expect.stringContaining('METRICS_REQUIRE_KEY=true needs API_KEYS'),
    ]);
    expect(
      loadConfig({ ...base, METRICS_REQUIRE_KEY: 'true', API_KEYS: 'k' }).operations.metricsRequireKey,
    ).toBe(true);
  });

  it('keeps the shutdown budget larger than the delay', () => {
    expect(problemsOf({ ...base, SHUTDOWN_DELAY_MS: '10000', SHUTDOWN_TIMEOUT_MS: '10500' })).toEqual([
      expect.stringContaining('SHUTDOWN_TIMEOUT_MS must be at least SHUTDOWN_DELAY_MS + 1000'),
    ]);
    expect(
      loadConfig({ ...base, SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '1000' }).operations,
    ).toMatchObject({
      shutdownDelayMs: 0,
      shutdownTimeoutMs: 1000,
    });
  });
});
