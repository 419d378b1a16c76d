import { Injectable, Logger, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { AllConfig, WebhooksConfig } from '../../config/config.types';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { RetrySettings, applyAttemptOutcome, applyInterruptedAttempt } from './webhook-attempt.policy';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { DeliveryRecord, FINAL_STATES } from './webhook-delivery.types';
import { WEBHOOK_USER_AGENT, WebhookHttpOutcome, postWebhook } from './webhook-http.sender';
import { WebhookSigner } from './webhook-signer';

/** Deliveries taken per pass; the rest wait for the next tick. */
export const DELIVERY_BATCH_SIZE = 100;
/** Attempts run in parallel within a pass, so one slow receiver does not hold up the others. */
export const DELIVERY_CONCURRENCY = 8;
/** A claim outlives the attempt's own timeout by this much before another worker may retry it. */
const CLAIM_GRACE_MS = 15_000;

export interface DeliverySummary {
  due: number;
  delivered: number;
  retrying: number;
  failed: number;
  gone: number;
  skipped: number;
}

type Claim = { record: DeliveryRecord; token: string };

/** Runs attempts for due outbox entries. Called by the worker; tests call deliverDue directly. */
@Injectable()
export class WebhookDeliveryService {
  private readonly logger = new Logger(WebhookDeliveryService.name);
  private readonly config: WebhooksConfig;
  private readonly signer: WebhookSigner;

  constructor(
    configService: ConfigService<AllConfig, true>,
    private readonly repository: WebhookDeliveryRepository,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.config = configService.get('webhooks', { infer: true });
    this.signer = new WebhookSigner(this.config.secret);
    if (!this.signer.enabled) {
      this.logger.warn(
        'WEBHOOK_SECRET is not set: webhooks are sent unsigned and receivers cannot verify them',
      );
    }
  }

  get retrySettings(): RetrySettings {
    const { maxAttempts, initialBackoffMs, maxBackoffMs } = this.config;
    return { maxAttempts, initialBackoffMs, maxBackoffMs };
  }

  /**
   * One attempt for every delivery due at `now` (ms). Times recorded follow `now` plus the real time
   * elapsed since the call, so tests can drive the schedule with a virtual clock.
   */
  async deliverDue(now: number = Date.now()): Promise<DeliverySummary> {
    const realStart = Date.now();
    const clock = () => now + (Date.now() - realStart);
    const ids = await this.repository.dueIds(now, DELIVERY_BATCH_SIZE);
    const summary: DeliverySummary = {
      due: ids.length,
      delivered: 0,
      retrying: 0,
      failed: 0,
      gone: 0,
      skipped: 0,
    };

    let cursor = 0;
    const lane = async () => {
      while (cursor < ids.length) {
        const id = ids[cursor++];
        try {
          const result = await this.deliverOne(id, clock);
          summary[result]++;
          if (result !== 'skipped') this.metrics?.recordWebhookAttempt(result);
        } catch (err) {
          summary.skipped++;
          this.logger.warn(
            { err, deliveryId: id },
            'Webhook delivery pass failed for one delivery; it stays due',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELIVERY_CONCURRENCY, ids.length) }, lane));
    return summary;
  }

  private async deliverOne(id: string, clock: () => number): Promise<keyof Omit<DeliverySummary, 'due'>> {
    const claim = await this.claim(id, clock());
    if (!claim) return 'skipped';

    const startedAt = clock();
    const outcome = await this.attempt(claim.record);
    const updated = await this.repository.withDeliveryLock(id, async () => {
      const current = await this.repository.get(id);
      // Our claim lapsed and someone else took the delivery over: their record wins.
      if (!current || current.claimToken !== claim.token) return null;
      const next = applyAttemptOutcome(current, startedAt, outcome, this.retrySettings);
      await this.persist(next);
      return next;
    });
    if (!updated) {
      this.logger.warn(
        { deliveryId: id },
        'Webhook attempt finished after its claim lapsed; outcome discarded',
      );
      return 'skipped';
    }
    const log = {
      deliveryId: id,
      eventId: updated.eventId,
      url: updated.url,
      status: outcome.status,
      error: outcome.error,
    };
    if (updated.state === 'delivered') this.logger.log(log, 'Webhook delivered');
    else
      this.logger.warn(
        { ...log, state: updated.state, nextAttemptAt: updated.nextAttemptAt },
        'Webhook attempt failed',
      );
    if (updated.state === 'pending') return 'retrying';
    return updated.state === 'delivered' || updated.state === 'gone' ? updated.state : 'failed';
  }

  /**
   * Marks the delivery as in flight for one attempt, atomically across replicas. The due-set score
   * moves to the claim's expiry, so if this process dies mid-attempt the delivery comes due again.
   */
  private claim(id: string, nowMs: number): Promise<Claim | null> {
    return this.repository.withDeliveryLock(id, async () => {
      let record = await this.repository.get(id);
      if (!record || FINAL_STATES.has(record.state)) {
        await this.repository.unschedule(id);
        return null;
      }
      if (record.state === 'delivering') {
        if (record.claimExpiresAt && Date.parse(record.claimExpiresAt) > nowMs) {
          await this.repository.schedule(id, Date.parse(record.claimExpiresAt));
          return null;
        }
        record = applyInterruptedAttempt(record, nowMs, this.retrySettings);
        if (record.state === 'failed') {
          await this.persist(record);
          return null;
        }
      } else if (record.nextAttemptAt && Date.parse(record.nextAttemptAt) > nowMs) {
        // The due set was ahead of the record (e.g. a redelivery moved it); follow the record.
        await this.repository.schedule(id, Date.parse(record.nextAttemptAt));
        return null;
      }
      const token = randomUUID();
      const claimExpiresAt = nowMs + this.config.timeoutMs + CLAIM_GRACE_MS;
      const claimed: DeliveryRecord = {
        ...record,
        state: 'delivering',
        attemptCount: record.attemptCount + 1,
        claimToken: token,
        claimExpiresAt: new Date(claimExpiresAt).toISOString(),
        updatedAt: new Date(nowMs).toISOString(),
      };
      await this.repository.save(claimed);
      await this.repository.schedule(id, claimExpiresAt);
      return { record: claimed, token };
    });
  }

  private attempt(record: DeliveryRecord): Promise<WebhookHttpOutcome> {
    const body = JSON.stringify(record.payload);
    // Wall-clock time, never the scheduling clock: receivers reject timestamps more than 5 minutes off.
    const timestamp = new Date();
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': WEBHOOK_USER_AGENT,
      'webhook-id': record.eventId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    };
    const signature = this.signer.sign(record.eventId, timestamp, body);
    if (signature) headers['webhook-signature'] = signature;
    return postWebhook({
      url: record.url,
      body,
      headers,
      timeoutMs: this.config.timeoutMs,
      allowPrivateTargets: this.config.allowPrivateTargets,
    });
  }

  private async persist(record: DeliveryRecord): Promise<void> {
    await this.repository.save(record);
    if (record.nextAttemptAt && !FINAL_STATES.has(record.state)) {
      await this.repository.schedule(record.id, Date.parse(record.nextAttemptAt));
    } else {
      await this.repository.unschedule(record.id);
    }
  }
}
