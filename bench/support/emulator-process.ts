import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/paths.js';
import { trustCertificateAuthority } from '../../lib/trust.js';
import { freePort } from '../../tests/support/ports.js';

export interface EmulatorProcess {
  httpsUrl: string;
  /** The certificate authority its TLS certificate is signed by, for a process of the product's own to trust. */
  caFile: string;
  control: (pathname: string, method: string, body?: unknown) => Promise<unknown>;
  stop: () => Promise<void>;
}

/** The emulator in its own process (as in a deployment), so its CPU is not the benchmark's. */
export async function startEmulatorProcess(args: string[]): Promise<EmulatorProcess> {
  const port = await freePort();
  const tlsDir = await mkdtemp(path.join(tmpdir(), 'hook-bench-tls-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'emulator/main.ts', '--control', '--port', String(port), '--http-port', String(await freePort()), '--tls-dir', tlsDir, ...args],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('tenants:')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${output}`)));
  });
  trustCertificateAuthority(await readFile(path.join(tlsDir, 'ca.pem'), 'utf8'));
  const httpsUrl = `https://localhost:${port}`;
  return {
    httpsUrl,
    caFile: path.join(tlsDir, 'ca.pem'),
    control: async (pathname, method, body) => {
      const response = await fetch(`${httpsUrl}/_emulator${pathname}`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`control ${pathname}: ${response.status} ${await response.text()}`);
      const text = await response.text();
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
