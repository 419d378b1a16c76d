import { HealthBlockRegistry } from './health-blocks';

describe(HealthBlockRegistry.name, () => {
  it('collects every registered block under its name', async () => {
    const sut = new HealthBlockRegistry();
    sut.register('sync', () => ({ available: true, lastSync: '2026-01-01T00:00:00.000Z' }));
    sut.register('migrationService', async () => ({ enabled: false, status: 'disabled' }));
    expect(await sut.collect()).toEqual({
      sync: { available: true, lastSync: '2026-01-01T00:00:00.000Z' },
      migrationService: { enabled: false, status: 'disabled' },
    });
  });

  it('reports a failing block as unavailable instead of failing the report', async () => {
    const sut = new HealthBlockRegistry();
    sut.register('sync', () => {
      throw new Error('store timeout');
    });
    expect(await sut.collect()).toEqual({ sync: { available: false, error: 'store timeout' } });
  });

  it('refuses names that would overwrite the built-in fields', () => {
    expect(() => new HealthBlockRegistry().register('services', () => ({}))).toThrow(/built-in/);
  });
});
