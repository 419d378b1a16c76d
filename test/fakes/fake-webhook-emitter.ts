import {
  EmitWebhookInput,
  EmitWebhookResult,
  WebhookEmitter,
} from '../../src/modules/webhooks/webhook-emitter';

/** Records emitted events and dedupes by dedupeKey exactly as the real outbox promises to. */
export class FakeWebhookEmitter extends WebhookEmitter {
  readonly emitted: EmitWebhookInput[] = [];
  readonly attempts: EmitWebhookInput[] = [];
  private readonly seen = new Set<string>();
  failNext = 0;

  async emit(input: EmitWebhookInput): Promise<EmitWebhookResult> {
    this.attempts.push(input);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('outbox unavailable');
    }
    const eventId = `evt_${input.dedupeKey}`;
    if (this.seen.has(input.dedupeKey)) return { eventId, deliveryId: null, duplicate: true };
    this.seen.add(input.dedupeKey);
    this.emitted.push(structuredClone(input));
    return { eventId, deliveryId: `whd_${input.dedupeKey}`, duplicate: false };
  }

  types(): string[] {
    return this.emitted.map((e) => e.type);
  }
}
