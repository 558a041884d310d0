import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  body: string;
  signature: string | undefined;
  ids: string[];
  /** What the receiver answered: a status, or 'timeout' when it never did in time. */
  answered: number | 'timeout';
}

/**
 * A webhook receiver on loopback, as a customer runs one: it records every delivery and answers
 * what `respond` says (a status, or a delay first: a receiver too slow to answer in time).
 */
export async function startReceiver(respond: (request: number) => { status: number; delayMs?: number } = () => ({ status: 200 })) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { status, delayMs = 0 } = respond(received.length);
      const entry: Received = { at: Date.now(), body, signature: req.headers['hook-signature'] as string | undefined, ids: (JSON.parse(body) as { data: Array<{ id: string }> }).data.map((event) => event.id), answered: delayMs > 0 ? 'timeout' : status };
      received.push(entry);
      const answer = () => {
        if (res.destroyed) return;
        entry.answered = status;
        res.writeHead(status).end();
      };
      if (delayMs > 0) setTimeout(answer, delayMs).unref();
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    /** Event ids in the order the receiver first acknowledged them (2xx), each once. */
    acknowledged(): string[] {
      const seen = new Set<string>();
      for (const entry of received) if (typeof entry.answered === 'number' && entry.answered < 300) for (const id of entry.ids) seen.add(id);
      return [...seen];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
