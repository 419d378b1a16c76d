import { Webhook } from 'standardwebhooks';

/** Standard Webhooks' marker for a base64 secret. */
export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';

/**
 * The secret in the form the standardwebhooks library expects. A configured "whsec_<base64>" secret
 * is used as is; any other string is taken as raw key bytes (UTF-8) and base64-encoded, so the HMAC
 * key is exactly the configured text. docs/webhooks.md tells receivers the same rule.
 */
export function toStandardWebhooksSecret(secret: string): string {
  return secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)
    ? secret
    : Buffer.from(secret, 'utf8').toString('base64');
}

/** Signs payloads per Standard Webhooks (HMAC-SHA256 over "id.timestamp.body"); unsigned when no secret is set. */
export class WebhookSigner {
  private readonly webhook: Webhook | null;

  constructor(secret: string | undefined) {
    if (!secret) {
      this.webhook = null;
      return;
    }
    try {
      this.webhook = new Webhook(toStandardWebhooksSecret(secret));
    } catch (err) {
      // Only a malformed "whsec_" value gets here; fail at boot rather than on the first delivery.
      throw new Error(`WEBHOOK_SECRET is not a valid whsec_<base64> secret: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  get enabled(): boolean {
    return this.webhook !== null;
  }

  /** The webhook-signature header value ("v1,<base64>"), or null when signing is off. */
  sign(messageId: string, timestamp: Date, body: string): string | null {
    return this.webhook ? this.webhook.sign(messageId, timestamp, body) : null;
  }
}
