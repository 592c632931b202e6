// The token_scopes migration: a token that had the old `write` scope keeps exactly what it granted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createTestDatabase } from '../support/db';

test('`write` becomes runs:trigger, pipelines:write and secrets:write; other scopes are left alone', async () => {
  const migration = readFileSync(path.join(import.meta.dirname, '../../prisma/migrations/20261205040000_token_scopes/migration.sql'), 'utf8');
  const db = await createTestDatabase();
  try {
    const org = await db.prisma.organization.create({ data: { slug: 'o', name: 'O' } });
    const key = (prefix: string, scopes: string[]) => db.prisma.apiKey.create({ data: { organizationId: org.id, name: prefix, prefix, hash: '00', scopes } });
    await key('bk_writer000', ['read', 'write']);
    await key('bk_admin0000', ['admin']);
    await key('bk_reader000', ['read']);
    await db.pool.query(migration);
    const scopes = Object.fromEntries((await db.prisma.apiKey.findMany()).map((k) => [k.name, k.scopes]));
    assert.deepEqual(scopes, {
      bk_writer000: ['read', 'runs:trigger', 'pipelines:write', 'secrets:write'],
      bk_admin0000: ['admin'],
      bk_reader000: ['read'],
    });
  } finally {
    await db.drop();
  }
});
