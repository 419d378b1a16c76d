import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { NovitaClient } from '../../infra/novita/novita-client';

/**
 * Reports Novita's circuit and last successful call. Informational only: it never makes a pod unready,
 * because cached reads keep working while Novita is down.
 */
@Injectable()
export class NovitaHealthIndicator {
  static readonly KEY = 'novita';

  constructor(
    private readonly novita: NovitaClient,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    const h = this.novita.health();
    const info = {
      circuit: h.circuit,
      lastSuccessAt: h.lastSuccessAt ? new Date(h.lastSuccessAt).toISOString() : null,
      lastError: h.lastError,
    };
    return this.indicators.check(NovitaHealthIndicator.KEY).up(info);
  }
}
