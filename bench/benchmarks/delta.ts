import type { generateTenant } from '../../emulator/generate.js';
import { BUDGET_PER_10S } from '../../emulator/throttle.js';
import type { Benchmark } from '../figures.js';
import { benchTenant, graphCost, reportPhases, round, syncedConnection, withBenchTenant } from '../support/synced-connection.js';

const CYCLES_PER_DAY = (24 * 60) / 5; // the default interval
const L_TENANT_UNITS_PER_SECOND = BUDGET_PER_10S.L / 10; // Graph's budget for a tenant over 500 users

/**
 * Delta cycles on the benchmarks' tenant (`benchTenant`: 100,000 users, or 300,000) against the full read they replace: a
 * cycle with no change, a cycle after 1 % churn, their Temporal actions, and a full read under
 * Graph's real resource-unit budget.
 */
export const deltaBenchmark: Benchmark = {
  name: 'delta',
  description: `delta cycles on the ${benchTenant().label} tenant (no change, 1 % churn) against a full sync, Temporal actions, and a full sync under the resource-unit budget`,
  run: async (report) => {
    await withBenchTenant(async (product, tenant, connection) => {
      const full = await connection.cycle();
      const fullCost = graphCost(full.requests, full.items);
      report({ figure: 'full sync: time', value: round(full.seconds), unit: 's', goal: null });
      report({ figure: 'full sync: Graph requests', value: fullCost.requests, unit: 'requests', goal: null });
      report({ figure: 'full sync: resource units', value: fullCost.resourceUnits, unit: 'RU', goal: null });
      report({ figure: 'full sync: Temporal actions', value: full.actions.billed, unit: 'actions', goal: null });

      const quiet = await connection.cycle();
      const quietCost = graphCost(quiet.requests, quiet.items);
      report({ figure: 'no-change cycle: time', value: round(quiet.seconds), unit: 's', goal: null });
      report({ figure: 'no-change cycle: Graph requests', value: quietCost.requests, unit: 'requests', goal: null });
      report({ figure: 'no-change cycle: requests ÷ full sync', value: round((100 * quietCost.requests) / fullCost.requests), unit: '%', goal: '<= 1' });
      report({ figure: 'no-change cycle: Temporal actions (billed)', value: quiet.actions.billed, unit: 'actions', goal: '<= 10' });
      report({ figure: 'no-change cycle: workflow tasks', value: quiet.actions.workflowTasks, unit: 'tasks', goal: null });

      const churned = await applyChurn(product.emulator.control, tenant, 0.01);
      const churn = await connection.cycle();
      const churnCost = graphCost(churn.requests, churn.items);
      report({ figure: '1 % churn: users changed in Entra', value: churned, unit: 'users', goal: null });
      report({ figure: '1 % churn: users added, updated, removed in Hook', value: churn.run.users_added + churn.run.users_updated + churn.run.users_removed, unit: 'users', goal: null });
      report({ figure: '1 % churn cycle: time', value: round(churn.seconds), unit: 's', goal: null });
      report({ figure: '1 % churn cycle: time ÷ full sync', value: round((100 * churn.seconds) / full.seconds), unit: '%', goal: '<= 10' });
      report({ figure: '1 % churn cycle: Graph requests', value: churnCost.requests, unit: 'requests', goal: null });
      report({ figure: '1 % churn cycle: requests ÷ full sync', value: round((100 * churnCost.requests) / fullCost.requests), unit: '%', goal: '<= 5' });
      report({ figure: '1 % churn cycle: resource units ÷ full sync', value: round((100 * churnCost.resourceUnits) / fullCost.resourceUnits), unit: '%', goal: '<= 5' });
      report({ figure: '1 % churn cycle: Temporal actions (billed)', value: churn.actions.billed, unit: 'actions', goal: null });
      // A scheduled cycle has a timer where these had a "Sync now" signal: the same count.
      const perDay = (CYCLES_PER_DAY - 1) * quiet.actions.billed + full.actions.billed;
      report({ figure: 'Temporal actions per tenant per day (5-minute cycles, one full read, no change)', value: perDay, unit: 'actions', goal: null });
      await connection.handle.terminate();

      // The same full read with the emulator enforcing Graph's budget (8,000 RU per 10 s).
      await product.emulator.control('/faults', 'PATCH', { throttling: true });
      await new Promise((resolve) => setTimeout(resolve, 10_000)); // a full bucket to start from
      const budgeted = await syncedConnection(product, tenant);
      const throttledRun = await budgeted.cycle();
      const cost = graphCost(throttledRun.requests, throttledRun.items);
      const floor = cost.resourceUnits / L_TENANT_UNITS_PER_SECOND;
      report({ figure: 'budgeted full sync: time', value: round(throttledRun.seconds), unit: 's', goal: null });
      report({ figure: 'budgeted full sync: budget floor (resource units ÷ 800 RU/s)', value: round(floor), unit: 's', goal: null });
      report({ figure: 'budgeted full sync: time ÷ budget floor', value: round(throttledRun.seconds / floor), unit: 'ratio', goal: '<= 1.3' });
      report({ figure: 'budgeted full sync: 429 answers', value: round((100 * cost.throttled) / cost.requests), unit: '% of requests', goal: '< 1' });
      await budgeted.handle.terminate();

      // Graph's budget for this tenant is more than one worker can spend (3,000 RU fit in the
      // bucket), so the figures above measure this machine. With a twentieth of it the budget
      // binds: the floor is what the bucket cannot cover, at the rate it refills.
      const factor = 1 / 20;
      await product.emulator.control('/faults', 'PATCH', { budgetFactor: factor });
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const scarce = await syncedConnection(product, tenant);
      const scarceRun = await scarce.cycle();
      const scarceCost = graphCost(scarceRun.requests, scarceRun.items);
      const bucket = BUDGET_PER_10S.L * factor;
      const scarceFloor = Math.max(0, scarceCost.resourceUnits - bucket) / (L_TENANT_UNITS_PER_SECOND * factor);
      report({ figure: 'full sync on a twentieth of the budget: time', value: round(scarceRun.seconds), unit: 's', goal: null });
      report({ figure: 'full sync on a twentieth of the budget: floor ((resource units − bucket) ÷ 40 RU/s)', value: round(scarceFloor), unit: 's', goal: null });
      report({ figure: 'full sync on a twentieth of the budget: time ÷ floor', value: round(scarceRun.seconds / scarceFloor), unit: 'ratio', goal: '<= 1.3' });
      report({ figure: 'full sync on a twentieth of the budget: 429 answers', value: round((100 * scarceCost.throttled) / scarceCost.requests), unit: '% of requests', goal: '< 1' });
      reportPhases(report, 'full sync on a twentieth of the budget', scarceRun);
      await scarce.handle.terminate();
    });
  },
};

/**
 * Changes `share` of the tenant's users through the emulator's control API, as a working day
 * would: 40 % of them renamed, disabled or given a new address, 30 % added to a group, 30 %
 * removed from one. Seeded, so every run makes the same changes. Returns the users changed.
 */
async function applyChurn(control: (path: string, method: string, body?: unknown) => Promise<unknown>, tenant: ReturnType<typeof generateTenant>, share: number): Promise<number> {
  let seed = 7;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const users = tenant.users!;
  const groups = tenant.groups!;
  const count = Math.round(users.length * share);
  const membership = new Map<string, { add: string[]; remove: string[] }>();
  const slot = (groupId: string) => membership.get(groupId) ?? membership.set(groupId, { add: [], remove: [] }).get(groupId)!;
  const touched = new Set<string>();
  while (touched.size < count) {
    const user = users[Math.floor(next() * users.length)]!;
    if (touched.has(user.id)) continue;
    touched.add(user.id);
    const roll = next();
    if (roll < 0.4) {
      const patch = roll < 0.15 ? { displayName: `${user.displayName} (renamed)` } : roll < 0.3 ? { mail: `renamed.${user.id.slice(0, 8)}@fabrikam.example` } : { accountEnabled: false };
      await control(`/tenants/${tenant.id}/users/${user.id}`, 'PATCH', patch);
    } else if (roll < 0.7) {
      slot(groups[Math.floor(next() * groups.length)]!.id).add.push(user.id);
    } else {
      const from = groups.filter((group) => (group.members as string[]).includes(user.id));
      if (from.length === 0) slot(groups[Math.floor(next() * groups.length)]!.id).add.push(user.id);
      else slot(from[Math.floor(next() * from.length)]!.id).remove.push(user.id);
    }
  }
  for (const [groupId, change] of membership) await control(`/tenants/${tenant.id}/groups/${groupId}/members`, 'POST', change);
  return touched.size;
}
