/** Test support for the secrets tests: the whole database as text, as an operator's backup would hold it. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);
const MAX_DUMP_BYTES = 512 * 1024 * 1024;

/**
 * `pg_dump` of the database (schema and data). The system's pg_dump refuses a newer server (the test server
 * runs the bundled PostgreSQL 18 under BUILDIT_TEST_PG=bundled, and the bundle has no pg_dump): then every
 * table is dumped with `COPY ... TO STDOUT` through psql, which holds the same data; `tool` says which ran.
 */
export async function dumpDatabase(url: string): Promise<{ tool: 'pg_dump' | 'psql COPY'; text: string }> {
  try {
    const { stdout } = await execFileAsync('pg_dump', ['--dbname', url], { maxBuffer: MAX_DUMP_BYTES });
    return { tool: 'pg_dump', text: stdout };
  } catch (error) {
    if (!/server version mismatch/.test(String((error as { stderr?: unknown }).stderr))) throw error;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const tables = await client
    .query<{ name: string }>(
      "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .finally(() => client.end());
  const copies = tables.rows.map((table) => ['-c', `COPY ${table.name} TO STDOUT`]).flat();
  const { stdout } = await execFileAsync('psql', ['--no-psqlrc', '--quiet', '--dbname', url, ...copies], { maxBuffer: MAX_DUMP_BYTES });
  return { tool: 'psql COPY', text: `${tables.rows.map((table) => table.name).join('\n')}\n${stdout}` };
}
