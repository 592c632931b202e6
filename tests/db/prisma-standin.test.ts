// The schema-engine stand-in (scripts/prisma-schema-engine.mjs) drives `prisma migrate` through Prisma's WASM
// engine on machines where the native engine cannot be downloaded. It patches internals of exact package
// versions, so this file is the gate for upgrading Prisma: it pins the versions and runs the real commands.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseSchemaEngine, findNativeSchemaEngine, repoRoot, runPrisma, schemaEngineStandinPath, type Env, type RunPrismaResult } from '../../scripts/prisma';
import { checkDatabaseReady } from '../../lib/db/ready';
import { createTestDatabase, type TestDatabase } from '../support/db';

/** The versions the stand-in was validated against (see the header of scripts/prisma-schema-engine.mjs). */
const PINS: Record<string, string> = {
  prisma: '7.10.1',
  '@prisma/client': '7.10.0',
  '@prisma/adapter-pg': '7.10.1',
  '@prisma/driver-adapter-utils': '7.10.1',
  '@prisma/schema-engine-wasm': '8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323',
};

// Read from node_modules directly: some of these packages do not export ./package.json.
function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Env for the CLI: the stand-in, no network (any HTTP(S) request goes to a closed loopback port), a trace file. */
function offlineEnv(traceFile: string): Env {
  const env: Env = { ...process.env };
  delete env.PRISMA_SCHEMA_ENGINE_BINARY;
  // On a machine that has the native engine, still test the stand-in.
  if (findNativeSchemaEngine()) env.PRISMA_SCHEMA_ENGINE_BINARY = schemaEngineStandinPath;
  const deadProxy = 'http://127.0.0.1:9';
  Object.assign(env, {
    HTTP_PROXY: deadProxy,
    HTTPS_PROXY: deadProxy,
    http_proxy: deadProxy,
    https_proxy: deadProxy,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    BUILDIT_SCHEMA_ENGINE_TRACE: traceFile,
  });
  return env;
}

const show = (r: RunPrismaResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe('schema-engine stand-in', () => {
  let dir: string;
  let traceFile: string;
  let env: Env;
  let db: TestDatabase;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'buildit-standin-'));
    traceFile = path.join(dir, 'trace.log');
    env = offlineEnv(traceFile);
    db = await createTestDatabase({ empty: true });
  });
  after(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const traceLines = () => (existsSync(traceFile) ? readFileSync(traceFile, 'utf8').trim().split('\n') : []);
  const resetTrace = () => writeFileSync(traceFile, '');

  test('installed Prisma packages are the versions the stand-in was validated with', () => {
    for (const [pkg, pinned] of Object.entries(PINS)) {
      assert.equal(
        installedVersion(pkg),
        pinned,
        `${pkg} is ${installedVersion(pkg)}, but scripts/prisma-schema-engine.mjs was validated with ${pinned}. ` +
          'It patches internals of these exact versions: after an upgrade, re-validate the stand-in (run this file, ' +
          'migrate dev/deploy/status/diff by hand), then update the pins here and in its header.',
      );
    }
  });

  test('the wrapper picks the stand-in when no native engine is installed', () => {
    const withoutEnv = { ...process.env };
    delete withoutEnv.PRISMA_SCHEMA_ENGINE_BINARY;
    const choice = chooseSchemaEngine(withoutEnv);
    if (findNativeSchemaEngine()) assert.equal(choice.kind, 'native');
    else assert.deepEqual(choice, { kind: 'standin', path: schemaEngineStandinPath });
    // An env-provided engine always wins.
    assert.deepEqual(chooseSchemaEngine({ PRISMA_SCHEMA_ENGINE_BINARY: '/opt/engine' }), { kind: 'env', path: '/opt/engine' });
  });

  test('prisma --version reports the stand-in', async () => {
    const r = await runPrisma(['--version'], { env });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Schema Engine\s*:.*buildit schema-engine stand-in/, show(r));
  });

  test('migrate deploy, then migrate status, run offline through the stand-in', async (t) => {
    resetTrace();
    const deploy = await runPrisma(['migrate', 'deploy'], { env, databaseUrl: db.url });
    assert.equal(deploy.code, 0, show(deploy));
    assert.equal(deploy.engine.path, schemaEngineStandinPath);
    assert.match(deploy.stdout, /applied|successfully/i, show(deploy));
    assert.ok(
      traceLines().some((l) => l.endsWith('rpc applyMigrations ok')),
      `stand-in trace:\n${traceLines().join('\n')}`,
    );
    t.diagnostic(`migrate deploy (stand-in, initial migration): ${deploy.durationMs.toFixed(0)} ms`);
    assert.deepEqual(await checkDatabaseReady(db.pool), { ok: true });

    resetTrace();
    const status = await runPrisma(['migrate', 'status'], { env, databaseUrl: db.url });
    assert.equal(status.code, 0, show(status));
    assert.match(status.stdout, /Database schema is up to date/, show(status));
    assert.ok(
      traceLines().some((l) => / rpc \w+ ok$/.test(l)),
      `stand-in trace:\n${traceLines().join('\n')}`,
    );
    assert.ok(!traceLines().some((l) => / error$|broken-premise/.test(l)), `stand-in trace:\n${traceLines().join('\n')}`);
    t.diagnostic(`migrate status (stand-in): ${status.durationMs.toFixed(0)} ms`);
  });

  test('migrate dev creates a migration for a schema change (createMigration and shadow database workarounds)', async () => {
    const target = await createTestDatabase({ empty: true });
    // Inside the repository (its gitignored tmp/) so the copied prisma.config.ts resolves `prisma/config`.
    mkdirSync(path.join(repoRoot, 'tmp'), { recursive: true });
    const work = mkdtempSync(path.join(repoRoot, 'tmp', 'standin-'));
    try {
      cpSync(path.join(repoRoot, 'prisma'), path.join(work, 'prisma'), { recursive: true });
      const schemaFile = path.join(work, 'prisma', 'schema.prisma');
      const schema = readFileSync(schemaFile, 'utf8').replace(/output\s*=\s*"[^"]*"/, `output = "${path.join(work, 'generated')}"`);
      assert.ok(schema.includes(path.join(work, 'generated')), 'generator output redirected');
      writeFileSync(
        schemaFile,
        `${schema}\nmodel StandinProbe {\n  id   Int    @id @default(autoincrement())\n  note String\n\n  @@map("standin_probes")\n}\n`,
      );
      const config = path.join(work, 'prisma.config.ts');
      writeFileSync(
        config,
        `import { defineConfig } from 'prisma/config';\nexport default defineConfig({ schema: ${JSON.stringify(schemaFile)}, migrations: { path: ${JSON.stringify(path.join(work, 'prisma', 'migrations'))} }, datasource: { url: process.env.DATABASE_URL! } });\n`,
      );
      resetTrace();
      // (The schema copy generates its client into the temp dir, not over lib/generated.)
      const result = await runPrisma(['migrate', 'dev', '--name', 'probe', '--config', config], { env, databaseUrl: target.url, cwd: work });
      assert.equal(result.code, 0, show(result));
      const created = readdirSync(path.join(work, 'prisma', 'migrations')).filter((m) => m.endsWith('_probe'));
      assert.equal(created.length, 1, show(result));
      const sql = readFileSync(path.join(work, 'prisma', 'migrations', created[0]!, 'migration.sql'), 'utf8');
      assert.match(sql, /CREATE TABLE "standin_probes"/);
      assert.doesNotMatch(sql, /CREATE TABLE "jobs"/, 'only the change, not the whole schema');
      assert.ok(
        traceLines().some((l) => l.endsWith('rpc createMigration ok')),
        traceLines().join('\n'),
      );
      // The shadow database is gone again.
      const { rows } = await target.pool.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'");
      assert.deepEqual(rows, []);
      const { rows: probes } = await target.pool.query("SELECT to_regclass('standin_probes') IS NOT NULL AS present");
      assert.equal(probes[0].present, true);
    } finally {
      rmSync(work, { recursive: true, force: true });
      await target.drop();
    }
  });

  test('fails loudly, naming the stand-in, when its premises break (e.g. an incompatible engine build)', async () => {
    resetTrace();
    // Another wasm module (the schema formatter) stands for an upgraded engine whose imports no longer match.
    const wrongWasm = path.join(repoRoot, 'node_modules', 'prisma', 'build', 'prisma_schema_build_bg.wasm');
    const r = await runPrisma(['migrate', 'status'], { env: { ...env, BUILDIT_SCHEMA_ENGINE_WASM: wrongWasm }, databaseUrl: db.url });
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stdout + r.stderr, /stand-in|re-validate/, show(r));
    assert.ok(
      traceLines().some((l) => l.includes('broken-premise')),
      traceLines().join('\n'),
    );
  });
});
