import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntraClients } from '../../activities/graph/clients.js';
import type { Context } from '@microsoft/microsoft-graph-client';
import { PacingHandler, TenantPacer, type Clock } from '../../activities/graph/pacing.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { entraFor } from '../support/app.js';
import { startTestEmulator } from '../support/emulator.js';

/** A clock that moves only when someone sleeps on it. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

const answer = (used?: string, retryAfter?: string, scope?: string) =>
  new Headers({ ...(used ? { 'x-ms-throttle-limit-percentage': used } : {}), ...(retryAfter ? { 'Retry-After': retryAfter } : {}), ...(scope ? { 'x-ms-throttle-scope': scope } : {}) });

describe('the tenant pacer', () => {
  it('leaves a tenant far from its budget alone', async () => {
    const clock = fakeClock();
    const pacer = new TenantPacer(clock);
    for (let request = 0; request < 50; request++) {
      await pacer.turn();
      pacer.finished();
      pacer.answered(200, answer());
    }
    expect(clock.slept).toEqual([]);
    expect(pacer.spacing).toBe(0);
  });

  it('spaces requests out while over 90 % of the budget is used, closer again below it, and not at all once Graph stops warning', () => {
    const pacer = new TenantPacer(fakeClock());
    pacer.answered(200, answer('0.8'));
    expect(pacer.spacing).toBe(0); // warned, but under the target
    pacer.answered(200, answer('0.9'));
    expect(pacer.spacing).toBe(20);
    pacer.answered(200, answer('1.0'));
    pacer.answered(200, answer('1.0'));
    expect(pacer.spacing).toBe(45);
    pacer.answered(200, answer('0.8'));
    expect(pacer.spacing).toBe(36);
    for (let quiet = 0; quiet < 4; quiet++) pacer.answered(200, answer());
    expect(pacer.spacing).toBe(0);
  });

  it('widens once for the requests already in flight: their warnings were sent at the old pace', async () => {
    const clock = fakeClock();
    const pacer = new TenantPacer(clock);
    const inFlight = [await pacer.turn(), await pacer.turn(), await pacer.turn()];
    await clock.sleep(100);
    for (const startedAt of inFlight) pacer.answered(200, answer('1.0'), startedAt);
    expect(pacer.spacing).toBe(20); // once, not 20 × 1.5 × 1.5
    // A 429 for the budget from an old request still holds the tenant, without widening again.
    pacer.answered(429, answer(undefined, '2', 'Tenant_Application/ReadWrite/app/tenant'), inFlight[0]);
    expect(pacer.spacing).toBe(20);
    const held = clock.now();
    const next = await pacer.turn();
    expect(next).toBe(held + 2_000);
    // A request sent after the widening is news again.
    pacer.answered(200, answer('1.0'), next);
    expect(pacer.spacing).toBe(30);
  });

  it('holds every request to the tenant until the Retry-After of a 429 for its budget has passed; other 429s are left to the retry', async () => {
    const clock = fakeClock();
    const pacer = new TenantPacer(clock);
    pacer.answered(429, answer(undefined, '5'));
    await pacer.turn();
    expect(clock.now()).toBe(0);
    pacer.answered(429, answer(undefined, '3', 'Tenant_Application/ReadWrite/app/tenant'));
    await pacer.turn();
    expect(clock.now()).toBe(3_000);
    await pacer.turn();
    expect(clock.now()).toBe(3_020); // and the next one waits its spacing
  });
});

describe('the tenant pacer’s places in flight', () => {
  it('lets at most so many requests go at once; a finishing one hands its place to the first waiting', async () => {
    const pacer = new TenantPacer(fakeClock(), 2);
    const started: string[] = [];
    const take = (name: string) => pacer.turn().then(() => started.push(name));
    await Promise.all([take('a'), take('b')]);
    const waiting = [take('c'), take('d')];
    await Promise.resolve();
    expect(started).toEqual(['a', 'b']);
    expect(pacer.load).toEqual({ inFlight: 2, places: 2, waiting: 2 });
    // A newcomer arriving as a place frees does not jump the queue, nor make a third in flight.
    pacer.finished();
    const late = take('e');
    await waiting[0];
    expect(started).toEqual(['a', 'b', 'c']);
    expect(pacer.load).toEqual({ inFlight: 2, places: 2, waiting: 2 });
    pacer.finished();
    pacer.finished();
    await Promise.all([waiting[1], late]);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    pacer.finished();
    pacer.finished();
    expect(pacer.load).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  it('has fewer places while the budget binds: halved by a warning above 90 % or a 429 for the tenant, once per round trip, one more per answer below it', async () => {
    const clock = fakeClock();
    const pacer = new TenantPacer(clock, 8);
    const sent = await pacer.turn();
    pacer.finished();
    await clock.sleep(10);
    pacer.answered(200, answer('0.95'), sent);
    expect(pacer.load.places).toBe(4);
    pacer.answered(200, answer('1.0'), sent); // sent before the halving: not news
    expect(pacer.load.places).toBe(4);
    for (const expected of [2, 1, 1]) {
      const next = await pacer.turn();
      pacer.finished();
      await clock.sleep(10);
      pacer.answered(200, answer('0.95'), next);
      expect(pacer.load.places).toBe(expected);
    }
    pacer.answered(200, answer('0.85'));
    pacer.answered(200, answer());
    expect(pacer.load.places).toBe(3);
    for (let quiet = 0; quiet < 10; quiet++) pacer.answered(200, answer());
    expect(pacer.load.places).toBe(8);
    const refused = await pacer.turn();
    pacer.finished();
    await clock.sleep(10);
    pacer.answered(429, answer(undefined, '1', 'Tenant_Application/ReadWrite/app/tenant'), refused);
    expect(pacer.load.places).toBe(4);
  });

  it('has at most 16 places while Graph warns at all (over 80 % used), and all 48 again once it stops', () => {
    const pacer = new TenantPacer(fakeClock());
    expect(pacer.load.places).toBe(48);
    pacer.answered(200, answer('0.85'));
    expect(pacer.load.places).toBe(16);
    for (let warned = 0; warned < 5; warned++) pacer.answered(200, answer('0.85'));
    expect(pacer.load.places).toBe(16);
    for (let quiet = 0; quiet < 40; quiet++) pacer.answered(200, answer());
    expect(pacer.load.places).toBe(48);
    // A first warning over 90 % halves the 16, not the 48.
    pacer.answered(200, answer('0.95'));
    expect(pacer.load.places).toBe(8);
  });

  it('lets a waiting request go as soon as the places grow back', async () => {
    const clock = fakeClock();
    const pacer = new TenantPacer(clock, 4);
    // Two requests in flight, and two warnings a round trip apart: one place left.
    const first = await pacer.turn();
    await clock.sleep(10);
    pacer.answered(200, answer('1.0'), first);
    const second = await pacer.turn();
    await clock.sleep(10);
    pacer.answered(200, answer('1.0'), second);
    expect(pacer.load).toEqual({ inFlight: 2, places: 1, waiting: 0 });
    let started = false;
    const waiting = pacer.turn().then(() => (started = true));
    pacer.finished();
    await Promise.resolve();
    expect(started).toBe(false); // one still in flight fills the one place
    pacer.answered(200, answer('0.5'));
    await waiting;
    expect(pacer.load).toEqual({ inFlight: 2, places: 2, waiting: 0 });
  });

  it('gets its place back from a request that failed on the way', async () => {
    const pacer = new TenantPacer(fakeClock(), 1);
    const handler = new PacingHandler(pacer);
    handler.setNext({ execute: () => Promise.reject(new Error('connection reset')), setNext: () => undefined });
    const context: Context = { request: 'https://graph.example/v1.0/organization' };
    const request = () => handler.execute(context);
    await expect(request()).rejects.toThrow('connection reset');
    expect(pacer.load).toMatchObject({ inFlight: 0, waiting: 0 });
    await expect(request()).rejects.toThrow('connection reset');
    expect(pacer.load).toMatchObject({ inFlight: 0, waiting: 0 });
  });
});

describe('the Graph client against a budget that binds', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] });
  });
  afterAll(() => emulator.close());

  it('spends the budget with next to no 429s, and every request succeeds', async () => {
    // The demo tenant is small (3,500 RU per 10 s); a tenth of that is 350 RU, 35 RU a second.
    Object.assign(emulator.faults, { throttling: true, budgetFactor: 0.1 });
    const graph = createEntraClients(entraFor(emulator)).graph(DEMO_TENANT_ID);
    const since = emulator.log.lastSeq;
    const readers = 6;
    const each = 100; // 600 requests of 1 RU: the bucket covers 350, the rest waits for refill
    const results = await Promise.all(
      Array.from({ length: readers }, async () => {
        let ok = 0;
        for (let request = 0; request < each; request++) {
          await graph.api('/organization').select('id').get();
          ok += 1;
        }
        return ok;
      }),
    );
    expect(results).toEqual(Array.from({ length: readers }, () => each));
    const answers = emulator.log.since(since).filter((entry) => entry.host === 'graph');
    const throttled = answers.filter((entry) => entry.status === 429).length;
    expect(answers.length - throttled).toBe(readers * each);
    expect(throttled / answers.length).toBeLessThan(0.01);
  }, 60_000);
});
