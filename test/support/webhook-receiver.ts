import { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A local webhook receiver for tests. It verifies every request with the standardwebhooks library,
 * exactly as a real receiver would, records what arrived, answers with a programmable status, and
 * can be stopped and restarted on the same port to play "receiver down".
 */
export interface ReceivedWebhook {
  /** The webhook-id header (the event id). */
  id: string | undefined;
  /** payload.type when the body is JSON with a type. */
  type: string | undefined;
  payload: unknown;
  /** The raw body as received. */
  body: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The signature checked out with the receiver's secret (false when no secret was given). */
  verified: boolean;
  verifyError?: string;
  /** The status this receiver answered. */
  answeredStatus: number;
  receivedAt: number;
}

export interface WebhookReceiverOptions {
  /**
   * The secret exactly as handed to `new Webhook(secret)`: "whsec_<base64>" or plain base64.
   * Omit it to accept unsigned deliveries (every event then has verified: false).
   */
  secret?: string;
  /** Status for requests when nothing else is programmed (default 200). */
  defaultStatus?: number;
  path?: string;
}

export class WebhookReceiver {
  readonly events: ReceivedWebhook[] = [];
  private server: Server | null = null;
  private portNumber = 0;
  private readonly verifier: Webhook | null;
  private defaultStatus: number;
  private readonly scripted: number[] = [];
  private responseDelayMs = 0;
  private readonly waiters = new Set<() => void>();
  private readonly path: string;

  private constructor(options: WebhookReceiverOptions) {
    this.verifier = options.secret ? new Webhook(options.secret) : null;
    this.defaultStatus = options.defaultStatus ?? 200;
    this.path = options.path ?? '/hooks';
  }

  static async start(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options);
    await receiver.listen(0);
    return receiver;
  }

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}${this.path}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** Answer `status` for the next `times` requests (default: until told otherwise), then the default again. */
  respondWith(status: number, times = Number.POSITIVE_INFINITY): void {
    if (times === Number.POSITIVE_INFINITY) {
      this.scripted.length = 0;
      this.defaultStatus = status;
      return;
    }
    for (let i = 0; i < times; i++) this.scripted.push(status);
  }

  /** Hold every answer this long (to make the sender time out). 0 turns it off. */
  delayResponses(ms: number): void {
    this.responseDelayMs = ms;
  }

  /** Takes the receiver down: the port refuses connections until restart(). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Brings it back on the same port. */
  async restart(): Promise<void> {
    if (this.server) throw new Error('receiver is already running');
    await this.listen(this.portNumber);
  }

  /** Resolves with the first recorded event matching the predicate, waiting up to timeoutMs for it. */
  async waitFor(predicate: (e: ReceivedWebhook) => boolean, timeoutMs = 5_000): Promise<ReceivedWebhook> {
    const found = () => this.events.find(predicate);
    const existing = found();
    if (existing) return existing;
    return new Promise<ReceivedWebhook>((resolve, reject) => {
      const check = () => {
        const hit = found();
        if (!hit) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`No matching webhook within ${timeoutMs} ms (received ${this.events.length})`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Events received with this webhook-id. */
  eventsWithId(id: string): ReceivedWebhook[] {
    return this.events.filter((e) => e.id === id);
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.portNumber = (server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = flattenHeaders(req.headers);
    const { verified, verifyError } = this.verify(body, headers);
    let payload: unknown = null;
    try {
      payload = JSON.parse(body);
    } catch {
      payload = null;
    }
    const status = this.scripted.shift() ?? this.defaultStatus;
    if (this.responseDelayMs > 0) await new Promise((r) => setTimeout(r, this.responseDelayMs));
    const type = payload && typeof payload === 'object' ? (payload as { type?: unknown }).type : undefined;
    this.events.push({
      id: headers['webhook-id'],
      type: typeof type === 'string' ? type : undefined,
      payload,
      body,
      headers,
      verified,
      ...(verifyError ? { verifyError } : {}),
      answeredStatus: status,
      receivedAt: Date.now(),
    });
    for (const waiter of [...this.waiters]) waiter();
    if (!res.destroyed) res.writeHead(status, { 'Content-Type': 'text/plain' }).end(String(status));
  }

  private verify(body: string, headers: Record<string, string>): { verified: boolean; verifyError?: string } {
    if (!this.verifier) return { verified: false, verifyError: 'receiver has no secret' };
    try {
      this.verifier.verify(body, headers);
      return { verified: true };
    } catch (err) {
      return { verified: false, verifyError: (err as Error).message };
    }
  }
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
