import { ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../../common/errors';
import { loadConfig } from '../../config/config.loader';
import { MetricsAccessGuard } from './metrics-access.guard';

function guardFor(env: Record<string, string>): MetricsAccessGuard {
  const config = loadConfig({ NOVITA_API_KEY: 'sk', ...env });
  return new MetricsAccessGuard(new ConfigService(config as unknown as Record<string, unknown>));
}

function request(headers: Record<string, string>): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => ({ url: '/metrics', headers }) }),
  } as unknown as ExecutionContext;
}

describe(MetricsAccessGuard.name, () => {
  it('leaves /metrics open by default, like the probes', () => {
    expect(guardFor({ API_KEYS: 'k1' }).canActivate(request({}))).toBe(true);
  });

  it('asks for one of API_KEYS when METRICS_REQUIRE_KEY=true', () => {
    const sut = guardFor({ API_KEYS: 'k1,k2', METRICS_REQUIRE_KEY: 'true' });
    expect(() => sut.canActivate(request({}))).toThrow(AppError);
    expect(() => sut.canActivate(request({ 'x-api-key': 'nope' }))).toThrow(/Invalid API key/);
    expect(sut.canActivate(request({ 'x-api-key': 'k2' }))).toBe(true);
    expect(sut.canActivate(request({ authorization: 'Bearer k1' }))).toBe(true);
  });
});
