import { freePort, spawnService } from '../../support/service-process';

// Boot-time validation, exercised on the real entry point: the process must refuse to start.
describe('configuration validation at boot', () => {
  it('exits non-zero naming the variable and its range', async () => {
    const svc = spawnService({ NOVITA_API_KEY: 'sk_test', SYNC_INTERVAL_MINUTES: '2' }, await freePort());
    const code = await svc.exited;
    expect(code).not.toBe(0);
    const output = svc.lines.join('\n');
    expect(output).toContain('SYNC_INTERVAL_MINUTES must be an integer from 5 to 1440 (got "2")');
  });

  it('lists every bad variable in one message', async () => {
    const svc = spawnService(
      { NOVITA_API_KEY: 'sk_test', SYNC_INTERVAL_MINUTES: '2', MIGRATION_INTERVAL_MINUTES: '61' },
      await freePort(),
    );
    expect(await svc.exited).not.toBe(0);
    const output = svc.lines.join('\n');
    expect(output).toContain('Invalid configuration (2 problems)');
    expect(output).toContain('SYNC_INTERVAL_MINUTES');
    expect(output).toContain('MIGRATION_INTERVAL_MINUTES must be an integer from 1 to 60');
  });

  it('refuses production without API keys', async () => {
    const svc = spawnService({ NOVITA_API_KEY: 'sk_test', NODE_ENV: 'production' }, await freePort());
    expect(await svc.exited).not.toBe(0);
    expect(svc.lines.join('\n')).toContain('API_KEYS must be set when NODE_ENV=production');
  });
});
