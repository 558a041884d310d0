import net from 'node:net';

/**
 * Ports below Linux's ephemeral range (32768–60999). A port the OS picked (`listen(0)`) could be
 * taken again by the next outgoing connection or by the Temporal dev server's own services, which
 * bind port 0 as they start, between our check and the real listen: CI once lost `npm start` to
 * that (EADDRINUSE). The OS never hands out a port from this range by itself.
 */
const LOW = 20_000;
const SLICE = 1_400;
const SLICES = 8;

/**
 * Each vitest worker draws from its own slice, so two files running side by side never pick the
 * same port, and this process never hands one out twice. The port is checked free before it is given.
 */
const slice = (Number(process.env.VITEST_POOL_ID ?? process.pid) % SLICES) * SLICE + LOW;
const handedOut = new Set<number>();

/** A port nothing listens on right now, that nothing else on this machine will be handed. */
export async function freePort(): Promise<number> {
  const start = Math.floor(Math.random() * SLICE);
  for (let i = 0; i < SLICE; i++) {
    const port = slice + ((start + i) % SLICE);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${slice} and ${slice + SLICE - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
