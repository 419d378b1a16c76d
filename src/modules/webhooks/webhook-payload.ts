import { createHash } from 'node:crypto';
import { EmitWebhookInput } from './webhook-emitter';
import { DeliveryRecord, WebhookPayload } from './webhook-delivery.types';

function digest(dedupeKey: string): string {
  return createHash('sha256').update(dedupeKey, 'utf8').digest('hex').slice(0, 24);
}

/** Deterministic, so replaying an emit after a crash yields the same id (the receiver's idempotency key). */
export function eventIdFor(dedupeKey: string): string {
  return `evt_${digest(dedupeKey)}`;
}

/** One delivery per event, so its id derives from the same key. */
export function deliveryIdFor(dedupeKey: string): string {
  return `whd_${digest(dedupeKey)}`;
}

/** The request's URL, else the instance's, else the global one; null when none applies. */
export function resolveTargetUrl(input: EmitWebhookInput, globalUrl: string | undefined): string | null {
  return input.url || input.instanceWebhookUrl || globalUrl || null;
}

export function buildPayload(input: EmitWebhookInput, eventId: string, now: Date): WebhookPayload {
  return {
    id: eventId,
    type: input.type,
    timestamp: now.toISOString(),
    instanceId: input.instanceId,
    data: input.data,
  };
}

/** A fresh outbox entry, due immediately. */
export function newDeliveryRecord(input: EmitWebhookInput, url: string, now: Date): DeliveryRecord {
  const eventId = eventIdFor(input.dedupeKey);
  const at = now.toISOString();
  return {
    id: deliveryIdFor(input.dedupeKey),
    eventId,
    eventType: input.type,
    instanceId: input.instanceId,
    url,
    payload: buildPayload(input, eventId, now),
    state: 'pending',
    attempts: [],
    attemptCount: 0,
    nextAttemptAt: at,
    createdAt: at,
    updatedAt: at,
  };
}
