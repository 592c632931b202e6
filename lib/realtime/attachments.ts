/**
 * The table the Socket.IO Postgres adapter and emitter use for payloads over NOTIFY's 8000-byte limit
 * (most log chunks). Not a Prisma model: its shape belongs to the adapter, which also deletes old rows.
 */
import type pg from 'pg';

export const ATTACHMENTS_TABLE = 'socket_io_attachments';

const CREATE = `CREATE TABLE IF NOT EXISTS ${ATTACHMENTS_TABLE} (
  id          bigserial UNIQUE,
  created_at  timestamptz DEFAULT NOW(),
  payload     bytea
)`;

/** Creates the table if missing. Safe when several processes start at once. */
export async function ensureAttachmentsTable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(CREATE);
  } catch (error) {
    // Two concurrent CREATE TABLE IF NOT EXISTS can both pass the check: the loser fails on the catalog's
    // unique index (23505) or "already exists" (42P07), and the table is there either way.
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw error;
  }
}
