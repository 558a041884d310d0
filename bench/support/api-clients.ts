// The api benchmark's clients, in a process of their own so they take no time from the web
// process they measure: `node --import tsx bench/support/api-clients.ts '<json settings>'`.
// Prints the latencies, by kind of page, as one JSON line.

interface Settings {
  base: string;
  key: string;
  groups: string[];
  clients: number;
  requestsPerClient: number;
}
interface Page {
  data: Array<{ id: string }>;
  nextCursor: string | null;
}

const settings = JSON.parse(process.argv[2]!) as Settings;
const names = ['ada', 'ben', 'garcía', 'tanaka', 'oskar', 'rosa', 'xu', 'zhang'];
const latencies: Record<'users' | 'members' | 'search', number[]> = { users: [], members: [], search: [] };

async function get(path: string): Promise<{ ms: number; body: Page }> {
  const started = performance.now();
  const response = await fetch(`${settings.base}${path}`, { headers: { Authorization: `Bearer ${settings.key}` } });
  const body = (await response.json()) as Page;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - started, body };
}

const started = performance.now();
await Promise.all(
  Array.from({ length: settings.clients }, async (_, client) => {
    let cursor: string | null = null;
    for (let i = 0; i < settings.requestsPerClient; i++) {
      const kind = i % 4 === 1 ? 'members' : i % 4 === 3 ? 'search' : 'users';
      const path =
        kind === 'users'
          ? `/users?limit=100${cursor ? `&after=${cursor}` : ''}`
          : kind === 'members'
            ? `/groups/${settings.groups[(client * 31 + i) % settings.groups.length]}/members?limit=100`
            : `/users?limit=100&search=${encodeURIComponent(names[(client + i) % names.length]!)}`;
      const { ms, body } = await get(path);
      latencies[kind].push(ms);
      if (kind === 'users') cursor = body.nextCursor;
    }
  }),
);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, latencies }));
