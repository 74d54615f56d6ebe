// Webhook deliveries from a durable outbox: each lifecycle event a job subscribes to becomes a
// delivery, stored (and fsynced) in <data-dir>/webhooks.db before it is sent; sent as a signed JSON
// POST; retried with backoff until the receiver answers 2xx (or 25 tries, about a day); a restart
// picks up every delivery not yet made. At least once: a receiver that answered but whose answer
// was lost gets the event again, with the same `encsup-delivery` id to tell it by.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type Datastore from 'nedb-promises';
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent, LifecycleKind } from '../../machines/lifecycle.js';
import { publicJob } from '../api/public-job.js';
import { syncToDisk } from '../data-folder.js';
import type { Logger } from '../logger.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface Delivery {
  id: string;
  jobId: string;
  url: string;
  kind: LifecycleKind;
  /**
   * The JSON sent: `{id, event, job}`; null once delivered (the outbox keeps every job's
   * deliveries while the job is kept, and a delivered body is a job's whole record again).
   */
  body: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** When the next try is due (ms since the epoch). */
  nextAtMs: number;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** A delivery still to be made: it has its body. */
type PendingDelivery = Delivery & { status: 'pending'; body: string };

function isPending(delivery: Delivery): delivery is PendingDelivery {
  return delivery.status === 'pending' && typeof delivery.body === 'string';
}

export interface WebhookSubscription {
  url: string;
  events: readonly LifecycleKind[];
}

export interface OutboxDeps {
  nowMs: () => number;
  secret: string;
  log: Logger;
  /** POSTs the body; resolves with the HTTP status, rejects when the receiver can't be reached. */
  post: (url: string, body: string, headers: Record<string, string>) => Promise<number>;
  /** The first retry's delay; each later one doubles it (at most an hour). */
  retryMs: number;
  /** A job's own subscription, else the daemon's default; null for none. */
  subscriptionOf: (job: Job) => WebhookSubscription | null;
  /** How often deliveries waiting out a backoff are looked at (TICK_MS unless a test says). */
  tickMs?: number;
}

const MAX_ATTEMPTS = 25;
const MAX_BACKOFF_MS = 60 * 60 * 1000;
// Sent at once, up to this many at a time: a box that finishes hundreds of short jobs a second
// sends as many webhooks (four at each 200 ms tick, it once sent 20 a second).
const SENDS_AT_ONCE = 8;
// How often deliveries waiting out a retry's backoff are looked at, while there are any.
const TICK_MS = 200;

export class WebhookOutbox {
  // Opened (and its library loaded) at the first delivery, or at start where earlier ones are stored.
  #db: Promise<Datastore<Delivery>> | null = null;
  readonly #pending = new Map<string, PendingDelivery>();
  readonly #sending = new Set<string>();
  // Made, not yet stored: stored together, one write and one fsync for all of them.
  #unstored: PendingDelivery[] = [];
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly filename: string,
    private readonly deps: OutboxDeps,
  ) {
  }

  #open(): Promise<Datastore<Delivery>> {
    this.#db ??= (async () => {
      const { default: Datastore } = await import('nedb-promises');
      const db = Datastore.create({ filename: this.filename, autoload: false }) as unknown as Datastore<Delivery>;
      await db.load();
      return db;
    })();
    return this.#db;
  }

  async start(): Promise<void> {
    if (existsSync(this.filename)) {
      for (const found of await (await this.#open()).find<Delivery>({ status: 'pending' })) {
        const delivery = strip(found);
        if (isPending(delivery)) this.#pending.set(delivery.id, delivery);
      }
    }
    if (this.#pending.size > 0) this.deps.log.info({ pending: this.#pending.size }, 'webhook deliveries to resume');
    this.#wake();
  }

  /** Whether it is woken every tick: only while a delivery is pending. */
  get ticking(): boolean {
    return this.#timer !== null;
  }

  /** Ticks only while a delivery is pending: a daemon with nothing to send is not woken for it. */
  #wake(): void {
    if (this.#timer !== null || this.#closed || this.#pending.size === 0) return;
    this.#timer = setInterval(() => this.#sendDue(), this.deps.tickMs ?? TICK_MS);
    this.#timer.unref();
  }

  #sleep(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** A published lifecycle event: a delivery for the job's subscription, if it asks for this kind. */
  enqueue(event: LifecycleEvent, job: Job | undefined): void {
    if (!job) return;
    const subscription = this.deps.subscriptionOf(job);
    if (!subscription || !subscription.events.includes(event.kind)) return;
    const id = randomBytes(9).toString('base64url');
    const now = this.deps.nowMs();
    const delivery: PendingDelivery = {
      id,
      jobId: job.id,
      url: subscription.url,
      kind: event.kind,
      body: JSON.stringify({ id, event, job: publicJob(job) }),
      status: 'pending',
      attempts: 0,
      nextAtMs: now,
      lastError: null,
      deliveredAt: null,
      createdAt: new Date(now).toISOString(),
    };
    // Stored before it is sent: a delivery survives a restart from the moment it exists.
    this.#unstored.push(delivery);
    if (this.#unstored.length === 1) this.#write(() => this.#storeMade());
  }

  /** Every delivery made since the last store, in one insert and one fsync; then they are sent. */
  async #storeMade(): Promise<void> {
    const made = this.#unstored;
    this.#unstored = [];
    await (await this.#open()).insert(made.map((delivery) => ({ _id: delivery.id, ...delivery })) as never);
    await syncToDisk(this.filename);
    for (const delivery of made) this.#pending.set(delivery.id, delivery);
    if (this.#closed) return;
    this.#wake();
    this.#sendDue();
  }

  async deliveriesOf(jobId: string): Promise<Delivery[]> {
    if (this.#db === null && !existsSync(this.filename)) return [];
    return (await (await this.#open()).find<Delivery>({ jobId })).map(strip).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /**
   * Removes the deliveries of jobs removed from the store (retention, `encsup clean`), except
   * those still pending, and compacts the file, so the outbox holds no more than the jobs kept.
   */
  async forget(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0 || (this.#db === null && !existsSync(this.filename))) return;
    this.#write(async () => {
      const db = await this.#open();
      const removed = await db.remove({ jobId: { $in: [...jobIds] }, status: { $ne: 'pending' } }, { multi: true });
      // The store's own compaction (nedb-promises passes it through, untyped; the one its types
      // name, on `persistence`, is deprecated and warns).
      if (removed > 0) await (db as unknown as { compactDatafileAsync(): Promise<void> }).compactDatafileAsync();
    });
    await this.#writes;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sleep();
    await this.#writes;
  }

  #sendDue(): void {
    if (this.#pending.size === 0) return this.#sleep();
    const now = this.deps.nowMs();
    for (const delivery of this.#pending.values()) {
      if (this.#sending.size >= SENDS_AT_ONCE) return;
      if (delivery.nextAtMs > now || this.#sending.has(delivery.id)) continue;
      this.#sending.add(delivery.id);
      // The next one goes as this one is made, not at the next tick.
      void this.#send(delivery).finally(() => {
        this.#sending.delete(delivery.id);
        if (!this.#closed) this.#sendDue();
      });
    }
  }

  async #send(delivery: PendingDelivery): Promise<void> {
    const nowMs = this.deps.nowMs();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'encsup-webhooks',
      'encsup-delivery': delivery.id,
      'encsup-event': delivery.kind,
      [SIGNATURE_HEADER]: signatureHeader(this.deps.secret, delivery.body, Math.floor(nowMs / 1000)),
    };
    let error: string | null = null;
    try {
      const status = await this.deps.post(delivery.url, delivery.body, headers);
      if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
    } catch (cause) {
      error = `the receiver could not be reached: ${(cause as Error).message}`;
    }
    const attempts = delivery.attempts + 1;
    const done: Partial<Delivery> =
      error === null
        ? { status: 'delivered', attempts, deliveredAt: new Date(this.deps.nowMs()).toISOString(), lastError: null, body: null }
        : attempts >= MAX_ATTEMPTS
          ? { status: 'failed', attempts, lastError: error }
          : { attempts, lastError: error, nextAtMs: this.deps.nowMs() + backoffMs(this.deps.retryMs, attempts) };
    const updated: Delivery = { ...delivery, ...done };
    if (isPending(updated)) this.#pending.set(delivery.id, updated);
    else this.#pending.delete(delivery.id);
    if (error !== null) this.deps.log.warn({ jobId: delivery.jobId, delivery: delivery.id, attempts, url: delivery.url, error }, updated.status === 'failed' ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry');
    else this.deps.log.info({ jobId: delivery.jobId, delivery: delivery.id, kind: delivery.kind, attempts }, 'webhook delivered');
    this.#write(async () => (await this.#open()).update({ _id: delivery.id }, { $set: done }));
  }

  #write(change: () => Promise<unknown>): void {
    this.#writes = this.#writes.then(change).catch((error: unknown) => this.deps.log.error({ err: error }, 'could not write the webhook outbox'));
  }
}

/** 2 s, 4 s, 8 s… (from --webhook-retry) up to an hour, ±20 %: 25 tries span about a day. */
function backoffMs(firstMs: number, attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, firstMs * 2 ** (attempts - 1)) * (0.8 + Math.random() * 0.4);
}

function strip(delivery: Delivery & { _id?: string }): Delivery {
  const { _id: _id, ...rest } = delivery;
  return rest;
}
