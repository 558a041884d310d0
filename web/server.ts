import type { Server } from 'node:http';
import type { Express } from 'express';

export interface RunningServer {
  port: number;
  close: () => Promise<void>;
}

/** Listens, and on close stops accepting, lets in-flight requests finish, then drops idle keep-alives. */
export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host, (error?: Error) => {
      if (error !== undefined) return reject(error);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
