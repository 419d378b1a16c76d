import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WebhookSigner, toStandardWebhooksSecret } from './webhook-signer';

describe('WebhookSigner', () => {
  const at = new Date('2025-01-01T00:00:00Z');
  const body = '{"id":"evt_1","type":"instance.ready"}';

  it('uses a whsec_ secret as is', () => {
    expect(toStandardWebhooksSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    );
  });

  it('base64-encodes any other secret, so its UTF-8 bytes are the HMAC key', () => {
    const raw = 'a-plain-secret-of-some-length';
    expect(toStandardWebhooksSecret(raw)).toBe(Buffer.from(raw, 'utf8').toString('base64'));
    const signature = new WebhookSigner(raw).sign('evt_1', at, body);
    const expected = createHmac('sha256', Buffer.from(raw, 'utf8'))
      .update(`evt_1.${at.getTime() / 1000}.${body}`)
      .digest('base64');
    expect(signature).toBe(`v1,${expected}`);
  });

  it('signs so the standardwebhooks library verifies with the whsec_ secret', () => {
    const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    const now = new Date();
    const signature = new WebhookSigner(secret).sign('evt_9', now, body) as string;
    const headers = {
      'webhook-id': 'evt_9',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('ready', 'stopped'), headers)).toThrow(
      /No matching signature/,
    );
  });

  it('is disabled without a secret', () => {
    const signer = new WebhookSigner(undefined);
    expect(signer.enabled).toBe(false);
    expect(signer.sign('evt_1', at, body)).toBeNull();
  });

  it('fails at construction on a malformed whsec_ secret', () => {
    expect(() => new WebhookSigner('whsec_not*valid*base64!!')).toThrow(
      /WEBHOOK_SECRET is not a valid whsec_<base64> secret/,
    );
  });
});
