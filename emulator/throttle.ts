import type { TenantDirectory } from './directory.js';

/** Resource units per 10 seconds per app per tenant, by tenant size (Graph throttling limits). */
export const BUDGET_PER_10S = { S: 3_500, M: 5_000, L: 8_000 } as const;

export interface RequestCost {
  path: string;
  hasSelect: boolean;
  hasExpand: boolean;
  top: number | undefined;
}

/**
 * Graph's documented costs for identity reads: GET users 2, groups/{id}/members 3,
 * groups/{id}/transitiveMembers 5, other GETs 1; $select −1, $expand +1, $top < 20 −1; at least 1.
 */
export function resourceUnits({ path, hasSelect, hasExpand, top }: RequestCost): number {
  let units = 1;
  if (/\/groups\/[^/]+\/transitiveMembers/i.test(path)) units = 5;
  else if (/\/groups\/[^/]+\/members/i.test(path)) units = 3;
  else if (/^\/users(\/|$|\?)/i.test(path) || /^\/users\/delta/i.test(path)) units = 2;
  if (hasSelect) units -= 1;
  if (hasExpand) units += 1;
  if (top !== undefined && top < 20) units -= 1;
  return Math.max(1, units);
}

/** Resource units per 20 seconds per app across all tenants (the same limits page). */
export const APP_BUDGET_PER_20S = 150_000;

export type ThrottleDecision = { allowed: true; percentUsed: number } | { allowed: false; retryAfterSeconds: number; scope: 'tenant' | 'application' };

interface Bucket {
  units: number;
  at: number;
}

/**
 * Token buckets that refill continuously at their budget's rate: one per app and tenant (the
 * 10-second budget by tenant size) and one per app across all tenants (150,000 RU per 20 s). A
 * request takes from both, or from neither.
 */
export class ResourceUnitThrottle {
  private readonly buckets = new Map<string, Bucket>();
  /** Multiplies the documented budgets; tests use a small factor to reach the limits quickly. */
  budgetFactor = 1;

  take(appId: string, tenant: Pick<TenantDirectory, 'id' | 'size'>, units: number, now = Date.now()): ThrottleDecision {
    const pair = this.refill(`${appId}/${tenant.id}`, BUDGET_PER_10S[tenant.size] * this.budgetFactor, 10_000, now);
    const app = this.refill(appId, APP_BUDGET_PER_20S * this.budgetFactor, 20_000, now);
    for (const [bucket, scope] of [[pair, 'tenant'], [app, 'application']] as const) {
      if (bucket.bucket.units < units) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((units - bucket.bucket.units) / bucket.perMs / 1000)), scope };
    }
    pair.bucket.units -= units;
    app.bucket.units -= units;
    return { allowed: true, percentUsed: Math.max(1 - pair.bucket.units / pair.capacity, 1 - app.bucket.units / app.capacity) };
  }

  private refill(key: string, capacity: number, windowMs: number, now: number): { bucket: Bucket; capacity: number; perMs: number } {
    const perMs = capacity / windowMs;
    const bucket = this.buckets.get(key) ?? { units: capacity, at: now };
    bucket.units = Math.min(capacity, bucket.units + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    return { bucket, capacity, perMs };
  }

  reset(): void {
    this.buckets.clear();
  }
}
