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

export type ThrottleDecision = { allowed: true; percentUsed: number } | { allowed: false; retryAfterSeconds: number };

/** A token bucket per app and tenant that refills continuously at the 10-second budget's rate. */
export class ResourceUnitThrottle {
  private readonly buckets = new Map<string, { units: number; at: number }>();
  /** Multiplies the documented budget; tests use a small factor to reach the limit quickly. */
  budgetFactor = 1;

  take(appId: string, tenant: TenantDirectory, units: number, now = Date.now()): ThrottleDecision {
    const capacity = BUDGET_PER_10S[tenant.size] * this.budgetFactor;
    const perMs = capacity / 10_000;
    const key = `${appId}/${tenant.id}`;
    const bucket = this.buckets.get(key) ?? { units: capacity, at: now };
    bucket.units = Math.min(capacity, bucket.units + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.units < units) {
      const waitMs = (units - bucket.units) / perMs;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    bucket.units -= units;
    return { allowed: true, percentUsed: 1 - bucket.units / capacity };
  }

  reset(): void {
    this.buckets.clear();
  }
}
