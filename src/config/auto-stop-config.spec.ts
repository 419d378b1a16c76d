import { loadConfig } from './config.loader';

describe('auto-stop settings', () => {
  const load = (env: Record<string, string>) =>
    loadConfig({ NOVITA_API_KEY: 'k', ...env }, { demoMode: false });

  it('defaults: a 5 s deadline sweep, 5 min warning, bounds 1-1440, disabling allowed', () => {
    expect(load({}).autoStop).toEqual({
      enabled: true,
      inactivityThresholdMinutes: 20,
      checkIntervalSeconds: 300,
      dryRun: false,
      sweepIntervalSeconds: 5,
      minIdleMinutes: 1,
      maxIdleMinutes: 1440,
      allowDisable: true,
      warningMinutes: 5,
    });
  });

  it('refuses bounds that contradict each other or the default threshold, naming the settings', () => {
    expect(() => load({ AUTO_STOP_MIN_IDLE_MINUTES: '30', AUTO_STOP_MAX_IDLE_MINUTES: '10' })).toThrow(
      /AUTO_STOP_MAX_IDLE_MINUTES must not be below AUTO_STOP_MIN_IDLE_MINUTES/,
    );
    expect(() => load({ AUTO_STOP_MIN_IDLE_MINUTES: '30' })).toThrow(
      /AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES must lie between/,
    );
    expect(() => load({ AUTO_STOP_SWEEP_INTERVAL_SECONDS: '120' })).toThrow(
      /AUTO_STOP_SWEEP_INTERVAL_SECONDS/,
    );
    expect(
      load({ AUTO_STOP_MIN_IDLE_MINUTES: '30', AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES: '45' }).autoStop,
    ).toMatchObject({ minIdleMinutes: 30, inactivityThresholdMinutes: 45 });
  });
});
