/*
 * What other modules use to announce events. The webhooks module implements it with a durable
 * outbox; callers never talk HTTP to receivers themselves.
 */

/** Every event type, as a runtime list (DTO validation, Swagger enums, docs). */
export const WEBHOOK_EVENT_TYPES = [
  'instance.created',
  'instance.creation_failed',
  'instance.starting',
  'instance.running',
  'instance.ready',
  'instance.startup_failed',
  'instance.stopping',
  'instance.stopped',
  'instance.idle_warning',
  'instance.auto_stopped',
  'instance.auto_deleted',
  'instance.deleted',
  'instance.reclaimed',
  'instance.migrated',
  'instance.recreated',
  'instance.migration_failed',
  'instance.terminated',
  'instance.removed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface EmitWebhookInput {
  type: WebhookEventType;
  /** Our instance id. */
  instanceId: string;
  /** Payload `data` (instance snapshot, operation, reason...). JSON-serialisable. */
  data: Record<string, unknown>;
  /** Explicit target (from the request); else the instance's URL; else the global WEBHOOK_URL. */
  url?: string | null;
  instanceWebhookUrl?: string | null;
  /**
   * Stable key for this logical event (e.g. `${operationId}:ready`). Emitting twice with the same key
   * (a reconciler replaying a step after a crash) yields the same event id and a single delivery.
   */
  dedupeKey: string;
}

export interface EmitWebhookResult {
  eventId: string;
  /** null when no target URL applies (nothing to deliver). */
  deliveryId: string | null;
  duplicate: boolean;
}

export abstract class WebhookEmitter {
  abstract emit(input: EmitWebhookInput): Promise<EmitWebhookResult>;
}
