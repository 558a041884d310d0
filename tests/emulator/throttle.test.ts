import { describe, expect, it } from 'vitest';
import { APP_BUDGET_PER_20S, BUDGET_PER_10S, ResourceUnitThrottle } from '../../emulator/throttle.js';

const tenants = Array.from({ length: 25 }, (_, index) => ({ id: `tenant-${index}`, size: 'L' as const }));

describe('Graph throttling budgets in the emulator', () => {
  it('limits an app per tenant, and across all its tenants together', () => {
    const throttle = new ResourceUnitThrottle();
    throttle.budgetFactor = 0.01; // 80 RU per 10 s per tenant, 1,500 RU per 20 s per app
    const now = 1_000_000;
    // One tenant: its own bucket binds first, and the 429 names the tenant scope.
    const perTenant = BUDGET_PER_10S.L * throttle.budgetFactor;
    for (let taken = 0; taken < perTenant; taken += 10) expect(throttle.take('app', tenants[0]!, 10, now).allowed).toBe(true);
    expect(throttle.take('app', tenants[0]!, 10, now)).toMatchObject({ allowed: false, scope: 'tenant' });
    // Many tenants, each under its own budget: the app's budget across them binds.
    let refused;
    let total = perTenant;
    for (const tenant of tenants.slice(1)) {
      for (let taken = 0; taken < perTenant && refused === undefined; taken += 10) {
        const decision = throttle.take('app', tenant, 10, now);
        if (decision.allowed) total += 10;
        else refused = decision;
      }
    }
    expect(refused).toMatchObject({ allowed: false, scope: 'application' });
    expect(total).toBe(APP_BUDGET_PER_20S * throttle.budgetFactor); // every tenant below its own budget, the app at its own
    // Another app has budgets of its own; and the buckets refill with time.
    expect(throttle.take('other-app', tenants[0]!, 10, now).allowed).toBe(true);
    expect(throttle.take('app', tenants[0]!, 10, now + 10_000).allowed).toBe(true);
  });
});
