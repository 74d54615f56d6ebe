// A real PostgreSQL server for the tests: ENCSUP_TEST_PG_URL where set (CI starts Debian's
// cluster), else a throwaway cluster made here with initdb from Debian's postgresql package, on a
// free loopback port, ended when the test process exits. Each test gets a database of its own.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

let server: Promise<string> | null = null;

function binaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('no PostgreSQL server here: install Debian\'s postgresql package, or set ENCSUP_TEST_PG_URL');
  return join(root, versions[0]!, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** Runs a PostgreSQL program as the postgres user when this is root (the server refuses root). */
function asServerUser(program: string, args: string[]): void {
  const root = userInfo().uid === 0;
  execFileSync(root ? 'runuser' : program, root ? ['-u', 'postgres', '--', program, ...args] : args, { stdio: 'pipe' });
}

/** A cluster of the tests' own; `restart` stops it (fast: sessions are ended) and starts it again on the same port. */
export interface OwnCluster {
  url: string;
  stop(): void;
  start(): void;
}

async function startCluster(): Promise<string> {
  return (await ownCluster()).url;
}

export async function ownCluster(): Promise<OwnCluster> {
  const bin = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'encsup-pg-'));
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = join(dir, 'data');
  asServerUser(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'encsup', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const start = () => asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on`, 'start']);
  start();
  process.on('exit', () => {
    try {
      asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // Stopped already.
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    url: `postgres://encsup@127.0.0.1:${port}/postgres`,
    stop: () => asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-w', '-m', 'fast', 'stop']),
    start,
  };
}

/** The server's URL (its `postgres` database), started on first use. */
export function testPostgres(): Promise<string> {
  server ??= process.env['ENCSUP_TEST_PG_URL'] ? Promise.resolve(process.env['ENCSUP_TEST_PG_URL']) : startCluster();
  return server;
}

/** A database of its own for one test, dropped afterwards. */
export async function freshDatabase(): Promise<{ url: string; admin: string; name: string; drop: () => Promise<void> }> {
  const admin = await testPostgres();
  const name = `encsup_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    admin,
    name,
    drop: async () => {
      const dropper = new pg.Client({ connectionString: admin });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

/** Makes every session of a database read-only (true) or writable again (false); ends the open ones so the change takes. */
export async function setReadOnly(admin: string, name: string, readOnly: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`ALTER DATABASE ${name} SET default_transaction_read_only = ${readOnly ? 'on' : 'off'}`);
  await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  // Until the ended sessions are gone: the next query of the store's pool opens a new one.
  for (let tries = 0; tries < 100; tries++) {
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM pg_stat_activity WHERE datname = $1', [name]);
    if (Number(rows[0]!.count) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  await client.end();
}

/** Runs `body` with a database of its own, dropped afterwards whatever the body did. */
export async function withDatabase<T>(body: (database: Awaited<ReturnType<typeof freshDatabase>>) => Promise<T>): Promise<T> {
  const database = await freshDatabase();
  try {
    return await body(database);
  } finally {
    await database.drop();
  }
}
