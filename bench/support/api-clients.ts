// The api benchmark's clients, in a process of their own so they take no time from the web
// process they measure: `node --import tsx bench/support/api-clients.ts '<json settings>'`.
// Prints the latencies, by kind of page, as one JSON line.
//
// Two ways to load the API:
// - closed loop (no `rate`): each client sends its next request as soon as the last one is
//   answered. This finds the capacity; its latency is the queue's, by Little's law clients ÷
//   throughput, whatever a page costs.
// - open loop (`rate`, pages/s over all clients): each client sends on a schedule of its own
//   (exponential gaps, as independent audience builders do). A request still waiting for the
//   one before it counts its latency from when it was due, not from when it went out, so a slow
//   answer is not hidden by the requests it held back (no coordinated omission).

interface Settings {
  base: string;
  key: string;
  groups: string[];
  clients: number;
  requestsPerClient: number;
  rate?: number;
}
interface Page {
  data: Array<{ id: string }>;
  nextCursor: string | null;
}

const settings = JSON.parse(process.argv[2]!) as Settings;
const names = ['ada', 'ben', 'garcía', 'tanaka', 'oskar', 'rosa', 'xu', 'zhang'];
const latencies: Record<'users' | 'members' | 'search', number[]> = { users: [], members: [], search: [] };

async function get(path: string): Promise<Page> {
  const response = await fetch(`${settings.base}${path}`, { headers: { Authorization: `Bearer ${settings.key}` } });
  const body = (await response.json()) as Page;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The mean gap between one client's requests, open loop; a random start spreads the clients. */
const meanGapMs = settings.rate === undefined ? undefined : (settings.clients / settings.rate) * 1000;
const gap = (mean: number) => -Math.log(1 - Math.random()) * mean;

const started = performance.now();
await Promise.all(
  Array.from({ length: settings.clients }, async (_, client) => {
    let cursor: string | null = null;
    let due = meanGapMs === undefined ? 0 : performance.now() + gap(meanGapMs);
    for (let i = 0; i < settings.requestsPerClient; i++) {
      const kind = i % 4 === 1 ? 'members' : i % 4 === 3 ? 'search' : 'users';
      const path =
        kind === 'users'
          ? `/users?limit=100${cursor ? `&after=${cursor}` : ''}`
          : kind === 'members'
            ? `/groups/${settings.groups[(client * 31 + i) % settings.groups.length]}/members?limit=100`
            : `/users?limit=100&search=${encodeURIComponent(names[(client + i) % names.length]!)}`;
      if (meanGapMs === undefined) due = performance.now();
      else await sleep(Math.max(0, due - performance.now()));
      const body = await get(path);
      latencies[kind].push(performance.now() - due);
      if (kind === 'users') cursor = body.nextCursor;
      if (meanGapMs !== undefined) due += gap(meanGapMs);
    }
  }),
);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, latencies }));
