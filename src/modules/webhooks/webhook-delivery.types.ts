import type { WebhookEventType } from './webhook-emitter';

/**
 * pending: waiting for its next attempt; delivering: claimed by a worker for one attempt;
 * delivered: a 2xx was received; failed: the attempt budget ran out or the target was refused;
 * gone: the receiver answered 410 and asked us to stop.
 */
export const DELIVERY_STATES = ['pending', 'delivering', 'delivered', 'failed', 'gone'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** The exact body sent to receivers; built once at emit time and never rebuilt. */
export interface WebhookPayload {
  id: string;
  type: WebhookEventType;
  timestamp: string;
  instanceId: string;
  data: Record<string, unknown>;
}

export interface DeliveryAttempt {
  /** ISO time the attempt started. */
  at: string;
  /** HTTP status when the receiver answered. */
  status?: number;
  /** Network error, timeout or refused target. */
  error?: string;
  durationMs: number;
}

/** One outbox entry: a single event on its way to a single URL. */
export interface DeliveryRecord {
  id: string;
  eventId: string;
  eventType: WebhookEventType;
  instanceId: string;
  url: string;
  payload: WebhookPayload;
  state: DeliveryState;
  attempts: DeliveryAttempt[];
  /** Attempts consumed from the current budget (reset by a redelivery; attempts[] keeps the history). */
  attemptCount: number;
  /** ISO time of the next attempt; null once the delivery is final. */
  nextAttemptAt: string | null;
  /** While delivering: when the claim lapses and another worker may retry (the holder crashed). */
  claimExpiresAt?: string;
  /** Identifies the claim, so a worker whose claim lapsed and was retaken does not overwrite the new one. */
  claimToken?: string;
  createdAt: string;
  updatedAt: string;
  lastError?: string;
}

export const FINAL_STATES: ReadonlySet<DeliveryState> = new Set(['delivered', 'failed', 'gone']);
