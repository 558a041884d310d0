import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { freePort } from '../support/ports.js';

/** `npm start` as a newcomer runs it: embedded PostgreSQL and Temporal, then Ctrl-C. */
describe('npm start on embedded defaults', () => {
  it('starts everything, stops everything on Ctrl-C, and finds its data on the next start', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hook-start-'));
    const ports = { web: await freePort(), postgres: await freePort(), temporal: await freePort() };
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      PORT: String(ports.web),
      DEV_POSTGRES_PORT: String(ports.postgres),
      DEV_TEMPORAL_PORT: String(ports.temporal),
      DEV_EMULATOR_PORT: String(await freePort()),
      DEV_EMULATOR_HTTP_PORT: String(await freePort()),
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      LOG_LEVEL: 'warn',
    };
    const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${ports.postgres}/hook`;
    const temporalAddress = `127.0.0.1:${ports.temporal}`;

    const first = await start(env);
    try {
      expect((await fetch(`http://127.0.0.1:${ports.web}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${ports.web}/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${ports.temporal + 1000}/`)).status).toBe(200);
      expect(first.output()).toContain(`Hook is running:      http://localhost:${ports.web}`);
      expect(first.output()).toContain(`Temporal UI:          http://127.0.0.1:${ports.temporal + 1000}`);
      expect(first.output()).toContain('Microsoft Entra:      emulator demo tenant (Northwind Outfitters)');
      expect(first.output()).toContain('Sign in as:           admin@hook.test / hook-demo-password (demo org "Hook Demo Co", slug demo)');
      // What the README's CLI and operator examples need.
      expect(first.output()).toContain(`Database:             DATABASE_URL=${databaseUrl}`);
      expect(first.output()).toContain(`Temporal CLI:         ${inject('temporalCliPath')} (address ${temporalAddress}, namespace default)`);
      await query(databaseUrl, "insert into orgs (slug, name) values ('kept', 'Kept across restarts')");
      const connection = await Connection.connect({ address: temporalAddress });
      // No worker polls this queue, so the workflow stays running: exactly what must survive.
      await new Client({ connection }).workflow.start('waitsForever', { taskQueue: 'nobody', workflowId: 'survivor' });
      await connection.close();
    } finally {
      await first.interrupt();
    }
    // npm reports an interrupted script as 130 (128 + SIGINT), the shell convention for Ctrl-C.
    expect([0, 130]).toContain(first.exitCode());
    expect(processesMentioning(dataDir)).toEqual([]);

    // A bad world file: a clear error before anything starts.
    const badWorld = path.join(dataDir, 'bad-world.json');
    await writeFile(badWorld, JSON.stringify({ tenants: [{ id: 'not-a-guid', displayName: 'Broken' }] }));
    const refused = spawnSync('npm', ['start', '--', '--world', badWorld], { cwd: projectRoot, env, encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/npm start failed: the emulator's world .*bad-world\.json cannot be used: tenants\[0\] \(Broken\)\.id: a GUID/);
    expect(processesMentioning(dataDir)).toEqual([]);

    // The second start serves a tenant of the user's own (DEV_EMULATOR_WORLD) instead of the demo.
    const ownWorld = path.join(dataDir, 'my-world.json');
    await writeFile(ownWorld, JSON.stringify({ tenants: [{ id: '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f', displayName: 'Contoso Try-Out', verifiedDomains: [{ name: 'contoso-try.example', isDefault: true }] }] }));
    const second = await start({ ...env, DEV_EMULATOR_WORLD: ownWorld });
    try {
      expect(second.output()).toContain(`Microsoft Entra:      emulator with Contoso Try-Out from ${ownWorld}`);
      expect(await query(databaseUrl, "select name from orgs where slug = 'kept'")).toEqual([{ name: 'Kept across restarts' }]);
      // The demo org and admin are seeded once, not again on the second start.
      expect(await query(databaseUrl, "select count(*)::int as n from accounts where email = 'admin@hook.test'")).toEqual([{ n: 1 }]);
      const connection = await Connection.connect({ address: temporalAddress });
      const description = await new Client({ connection }).workflow.getHandle('survivor').describe();
      expect(description.status.name).toBe('RUNNING');
      await connection.close();
    } finally {
      await second.interrupt('sigterm');
    }
    expect(processesMentioning(dataDir)).toEqual([]);
  }, 180_000);
});

async function start(env: NodeJS.ProcessEnv) {
  // Its own process group, so "Ctrl-C" can be sent to the whole group as a terminal does.
  const child: ChildProcess = spawn('npm', ['start'], { cwd: projectRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up within 90 s:\n${output}`)), 90_000);
    const poll = setInterval(() => {
      if (output.includes('Press Ctrl-C to stop everything.')) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`npm start exited early:\n${output}`));
      }
    }, 100);
  });
  return {
    output: () => output,
    exitCode: () => child.exitCode,
    /**
     * Ctrl-C (SIGINT to the whole group, as a terminal sends it) or SIGTERM to npm alone (as a
     * service manager sends it), then wait until every process of the group is gone.
     */
    interrupt: async (how: 'ctrl-c' | 'sigterm' = 'ctrl-c') => {
      if (child.exitCode === null) {
        if (how === 'ctrl-c') process.kill(-child.pid!, 'SIGINT');
        else child.kill('SIGTERM');
      }
      await exited;
      const deadline = Date.now() + 30_000;
      while (groupMembers(child.pid!).length > 0) {
        if (Date.now() > deadline) throw new Error(`still running after Ctrl-C: ${groupMembers(child.pid!).join('; ')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

async function query(url: string, statement: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(statement)).rows;
  } finally {
    await client.end();
  }
}

function groupMembers(groupId: number): string[] {
  const listing = execFileSync('ps', ['-eo', 'pgid=,args='], { encoding: 'utf8' });
  return listing.split('\n').filter((line) => line.trim().split(/\s+/)[0] === String(groupId));
}

function processesMentioning(text: string): string[] {
  const listing = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return listing.split('\n').filter((line) => line.includes(text));
}
