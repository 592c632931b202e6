// Readiness: the database answers AND every migration in prisma/migrations is applied. Used by the web's
// health endpoint and by workers before they claim jobs (a worker on an old schema must not run).
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrationsDirFromEnv } from '../config/env';
import { queryRows, type Queryable } from './client';

export type Readiness = { ok: true } | { ok: false; reason: string };

/**
 * prisma/migrations of this checkout. Found next to this file; when bundled (Next's server build) the
 * module's URL may not point into the checkout, so also the cwd (the server runs from the repository root),
 * and BUILDIT_MIGRATIONS_DIR overrides both.
 */
export function findMigrationsDir(): string | null {
  const candidates = [
    migrationsDirFromEnv(),
    path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../prisma/migrations'),
    path.resolve(process.cwd(), 'prisma/migrations'),
  ];
  return candidates.find((dir): dir is string => !!dir && existsSync(path.join(dir, 'migration_lock.toml'))) ?? null;
}

export const defaultMigrationsDir = findMigrationsDir() ?? path.resolve(process.cwd(), 'prisma/migrations');

/**
 * Migration names (folder names with a migration.sql), in order. The folder is read at run time from the
 * checkout, never bundled: the turbopackIgnore comments keep `next build` from tracing the whole project.
 */
export function listMigrations(migrationsDir = defaultMigrationsDir): string[] {
  if (!existsSync(/*turbopackIgnore: true*/ migrationsDir)) {
    throw new Error(`migrations folder ${migrationsDir} not found (set BUILDIT_MIGRATIONS_DIR to the prisma/migrations of this BuildIt)`);
  }
  return readdirSync(/*turbopackIgnore: true*/ migrationsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(migrationsDir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort();
}

const list = (names: string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', '));

export async function checkDatabaseReady(db: Queryable, options: { migrationsDir?: string } = {}): Promise<Readiness> {
  try {
    await queryRows(db, 'SELECT 1 AS ok');
  } catch (e) {
    return { ok: false, reason: `database unreachable: ${(e as Error).message}` };
  }
  let expected: string[];
  try {
    expected = listMigrations(options.migrationsDir);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  try {
    const [table] = await queryRows<{ present: boolean }>(db, "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present");
    if (!table?.present) {
      return expected.length
        ? { ok: false, reason: `database not migrated: no migrations applied (${expected.length} pending); run migrations (npm run prisma -- migrate deploy)` }
        : { ok: true };
    }
    const rows = await queryRows<{ migration_name: string; finished: boolean; rolled_back: boolean }>(
      db,
      'SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back FROM _prisma_migrations',
    );
    const failed = rows.filter((r) => !r.finished && !r.rolled_back).map((r) => r.migration_name);
    if (failed.length) {
      return { ok: false, reason: `migration failed or still running: ${list(failed)}; see npm run prisma -- migrate status` };
    }
    const applied = new Set(rows.filter((r) => r.finished && !r.rolled_back).map((r) => r.migration_name));
    const pending = expected.filter((m) => !applied.has(m));
    if (pending.length) {
      return {
        ok: false,
        reason: `database not migrated: ${pending.length} pending migration(s): ${list(pending)}; run migrations (npm run prisma -- migrate deploy)`,
      };
    }
    const known = new Set(expected);
    const unknown = [...applied].filter((m) => !known.has(m)).sort();
    if (unknown.length) {
      return { ok: false, reason: `database has migrations this BuildIt version does not know: ${list(unknown)}; it was migrated by a newer version` };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `could not read migration state: ${(e as Error).message}` };
  }
}
