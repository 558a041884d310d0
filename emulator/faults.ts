/** Faults, latency and throttling a test or demo injects while the emulator runs. */
export interface FaultRule {
  /** Regular expression matched against the Graph path and query (e.g. `/groups/abc/transitiveMembers`). */
  path: string;
  /** 404 plays replication lag: an object created a moment ago is not found by id yet. */
  status: 404 | 429 | 500 | 502 | 503 | 504;
  /** How many matching requests fail; then the rule is spent. */
  times: number;
  retryAfterSeconds?: number;
}

export interface FaultSettings {
  /** Delay added to every Graph and token request, in milliseconds. */
  latencyMs: number;
  /** More delay for each request inside a `$batch`: Graph runs a batch's items before it answers. */
  latencyPerBatchItemMs: number;
  /** Each delay varies by up to this much either way, at random (a real network is never even). */
  latencyJitterMs: number;
  /** Share (0–1) of Graph requests answered 503 / 504 at random. */
  rate503: number;
  rate504: number;
  /** Share (0–1) of Graph requests answered 429 at random, on top of the resource-unit budget. */
  rate429: number;
  /** Enforce Graph's resource-unit budget per app and tenant. */
  throttling: boolean;
  /** Multiplies the documented budget (tests use a small one). */
  budgetFactor: number;
  rules: FaultRule[];
  /** How long delta tokens stay valid (Graph: 7 days for directory objects). */
  deltaTokenLifetimeSeconds: number;
  /** Graph cannot be reached: every Graph connection is dropped without an answer (sign-in still works). */
  graphUnreachable: boolean;
  /**
   * How an expired delta token is refused: 410 Gone `syncStateNotFound` with a Location (the
   * default), or a 400 with `resyncRequired` or `syncStateNotFound`, the other shapes Graph's
   * docs name ("a 40X-series error with error codes such as syncStateNotFound").
   */
  deltaExpiredAnswer: DeltaExpiredAnswer;
  /**
   * Collections and delta rounds start with an empty page that still has a nextLink, which Graph
   * may send: "an empty page doesn't mean the end; follow the nextLink".
   */
  emptyFirstPages: boolean;
}

export const DELTA_EXPIRED_ANSWERS = ['gone-410', 'resync-required-400', 'sync-state-not-found-400'] as const;
export type DeltaExpiredAnswer = (typeof DELTA_EXPIRED_ANSWERS)[number];

export const defaultFaults = (): FaultSettings => ({
  latencyMs: 0,
  latencyPerBatchItemMs: 0,
  latencyJitterMs: 0,
  rate503: 0,
  rate504: 0,
  rate429: 0,
  throttling: true,
  budgetFactor: 1,
  rules: [],
  deltaTokenLifetimeSeconds: 7 * 24 * 60 * 60,
  graphUnreachable: false,
  deltaExpiredAnswer: 'gone-410',
  emptyFirstPages: false,
});

/** How long a request waits before it is answered: a `$batch` of `items` waits for each of them too. */
export function latencyOf(settings: FaultSettings, items = 0, random = Math.random): number {
  const base = settings.latencyMs + items * settings.latencyPerBatchItemMs;
  if (base === 0) return 0;
  return Math.max(0, base + (random() * 2 - 1) * settings.latencyJitterMs);
}

export type InjectedFault = { status: FaultRule['status']; retryAfterSeconds?: number } | undefined;

/** A rule matching this path, spent by one: how the token endpoint's faults are injected (no random rates there). */
export function injectRuleFault(settings: FaultSettings, pathAndQuery: string): InjectedFault {
  const rule = settings.rules.find((candidate) => candidate.times > 0 && new RegExp(candidate.path, 'i').test(pathAndQuery));
  if (!rule) return undefined;
  rule.times -= 1;
  settings.rules = settings.rules.filter((candidate) => candidate.times > 0);
  return { status: rule.status, retryAfterSeconds: rule.retryAfterSeconds };
}

/** Decides whether this request fails by injection: spent rules first, then the random rates. */
export function injectFault(settings: FaultSettings, pathAndQuery: string, random = Math.random): InjectedFault {
  const ruled = injectRuleFault(settings, pathAndQuery);
  if (ruled) return ruled;
  const roll = random();
  if (roll < settings.rate429) return { status: 429, retryAfterSeconds: 1 };
  if (roll < settings.rate429 + settings.rate503) return { status: 503, retryAfterSeconds: 1 };
  // Graph sends Retry-After with 503 and 504 too, and its SDKs wait it out.
  if (roll < settings.rate429 + settings.rate503 + settings.rate504) return { status: 504, retryAfterSeconds: 1 };
  return undefined;
}
