import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

/** Past this share of the budget used, requests are spaced out further. */
const TARGET_USED = 0.9;
/**
 * Places in flight at most while Graph warns (over 80 % used): 48 requests in flight, about 72 RU,
 * would empty a small bucket's last tenth (40 RU of a twentieth of a large tenant's) before any
 * of their answers could slow the rest.
 */
const WARNED_PLACES = 16;
const MIN_SPACING_MS = 20;
const MAX_SPACING_MS = 10_000;

/**
 * Requests one process has in flight to a tenant at most, while the tenant's budget is far from
 * binding. Graph sets no concurrency limit for directory reads, only the budget; this bounds how
 * hard one worker presses a tenant. Reads that are writing a page to PostgreSQL hold no place, so
 * the places stay busy.
 */
export const MAX_REQUESTS_IN_FLIGHT = 48;

export interface Clock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/**
 * Keeps one tenant's reads inside Graph's resource-unit budget (per app and tenant, a bucket
 * that refills over 10 seconds), so a sync spends the budget instead of collecting 429s.
 *
 * Graph says how full the bucket is: above 80 % use, every answer carries
 * `x-ms-throttle-limit-percentage`. While that share stays above 90 %, requests start further
 * apart (×1.5 each time); below it, closer (×0.8); once the header is gone, spacing halves
 * towards none, so a tenant far from its budget is never slowed. A 429 for the tenant's budget
 * holds every request to the tenant until its Retry-After has passed, not only the one refused,
 * and doubles the spacing.
 *
 * The places in flight follow the budget too: up to `maxInFlight`, at most 16 while Graph warns,
 * halved by a warning above 90 % or a 429 for the tenant (once per round trip, like the spacing),
 * one more for each answer below it. Spacing alone sets when requests start, but every request
 * already in flight when the bucket runs dry comes back 429: with 48 in flight on a twentieth of
 * the budget, 1.7 % did.
 */
export class TenantPacer {
  private spacingMs = 0;
  private nextStart = 0;
  private heldUntil = 0;
  /** When the spacing last widened: answers to requests started before it are not news. */
  private widenedAt = -Infinity;
  private inFlight = 0;
  /** Places in flight now: between 1 and maxInFlight. */
  private window: number;
  /** Requests waiting for a place, first come first served. */
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly clock: Clock = realClock,
    private readonly maxInFlight = MAX_REQUESTS_IN_FLIGHT,
  ) {
    this.window = maxInFlight;
  }

  /**
   * Waits for this request's turn: a place among the requests in flight, then its start time.
   * Returns when it started, to hand back with its answer; `finished` gives the place back.
   */
  async turn(): Promise<number> {
    // A freed place goes to the first one waiting (admit), never to a newcomer.
    if (this.inFlight < this.window && this.waiting.length === 0) this.inFlight += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    for (;;) {
      const now = this.clock.now();
      const start = Math.max(now, this.nextStart, this.heldUntil);
      if (start <= now) {
        this.nextStart = now + this.spacingMs;
        return now;
      }
      await this.clock.sleep(start - now);
    }
  }

  /**
   * Learns from an answer: its status and headers, and when its request started. A request that
   * started before the spacing last widened was sent at the old pace, so its warning widens the
   * spacing no further: widening once per round trip, however many requests are in flight (each
   * of 48 answers widening it would take the spacing to its maximum at once, and spend a binding
   * budget at half its rate).
   */
  answered(status: number, headers: Headers, startedAt = this.clock.now()): void {
    const fresh = startedAt >= this.widenedAt;
    // A 429 for the tenant's budget says so (`x-ms-throttle-scope: Tenant_Application/…` or
    // `Tenant/…`); any other 429 is the retry handler's business, for that request alone.
    if (status === 429 && /^Tenant/i.test(headers.get('x-ms-throttle-scope') ?? '')) {
      const retryAfter = Number(headers.get('Retry-After'));
      this.heldUntil = Math.max(this.heldUntil, this.clock.now() + (Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000));
      if (fresh) this.widen(2);
      return;
    }
    const used = Number(headers.get('x-ms-throttle-limit-percentage') ?? NaN);
    const warned = Number.isFinite(used); // Graph warns from 80 % used
    const places = warned ? WARNED_PLACES : this.maxInFlight;
    this.window = Math.min(this.window, places);
    if (warned && used >= TARGET_USED) {
      if (fresh) this.widen(1.5);
      return;
    }
    this.spacingMs = warned ? this.spacingMs * 0.8 : this.spacingMs < MIN_SPACING_MS ? 0 : this.spacingMs / 2;
    this.window = Math.min(places, this.window + 1);
    this.admit();
  }

  /** The request that took a turn is over (answered or failed): its place goes to the next. */
  finished(): void {
    this.inFlight -= 1;
    this.admit();
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.inFlight < this.window) {
      this.inFlight += 1;
      this.waiting.shift()!();
    }
  }

  /** Requests start further apart, and fewer are in flight. */
  private widen(factor: number): void {
    this.spacingMs = Math.min(MAX_SPACING_MS, Math.max(MIN_SPACING_MS, this.spacingMs * factor));
    this.window = Math.max(1, Math.floor(this.window / 2));
    this.widenedAt = this.clock.now();
  }

  /** Milliseconds between request starts now (0: unpaced). */
  get spacing(): number {
    return this.spacingMs;
  }

  /** Requests in flight now, the places there are, and requests waiting for one. */
  get load(): { inFlight: number; places: number; waiting: number } {
    return { inFlight: this.inFlight, places: this.window, waiting: this.waiting.length };
  }
}

/**
 * The Graph client middleware that asks the tenant's pacer for a turn before each request
 * (retries included: it sits after the retry handler, so a request waiting out a Retry-After
 * holds no place), gives the turn back however the request ends, and tells it every answer.
 */
export class PacingHandler implements Middleware {
  private next?: Middleware;

  constructor(private readonly pacer: TenantPacer) {}

  async execute(context: Context): Promise<void> {
    const startedAt = await this.pacer.turn();
    try {
      await this.next!.execute(context);
    } finally {
      this.pacer.finished();
    }
    if (context.response) this.pacer.answered(context.response.status, context.response.headers, startedAt);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
