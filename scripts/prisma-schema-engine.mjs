#!/usr/bin/env node
/* global WebAssembly */
// Stand-in for Prisma's native `schema-engine` binary, for installs where it cannot be downloaded
// (air-gapped machines, CI with only the npm registry reachable). `npm run prisma` (scripts/prisma.ts, logic
// in lib/db/prisma-cli.ts) points PRISMA_SCHEMA_ENGINE_BINARY here ONLY when no native engine is installed
// and the variable is not already set.
//
// What it does: speaks the protocol the Prisma CLI speaks to its engine process
//   - `schema-engine --version`                      (prisma --version)
//   - `schema-engine [--datasource JSON] cli <cmd>`  (one-shot: can-connect / create / drop database)
//   - `schema-engine --datamodels F [--datasource JSON]` + JSON-RPC 2.0, one message per line on stdio
// and forwards the RPC calls to Prisma's own WASM build of the schema engine (the `schema_engine_bg.wasm`
// shipped inside the `prisma` package, with the JS glue of `@prisma/schema-engine-wasm`), which talks to
// PostgreSQL through `@prisma/adapter-pg`.
//
// It relies on internals of exact versions: prisma 7.10.1, @prisma/adapter-pg 7.10.1,
// @prisma/driver-adapter-utils 7.10.1, @prisma/schema-engine-wasm 8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323.
// tests/db/prisma-standin.test.ts asserts those pins and runs migrate deploy/status/dev through it
// (tests/db/migrations.test.ts runs migrate diff). When upgrading any of them, re-run those tests; the
// workarounds check their premises and fail loudly (an error the CLI prints, non-zero exit) when one breaks.
//
// Workarounds (details where each is implemented):
//   1. adapter-pg cannot type the `"char"` column of pg_catalog queries      -> reported as Character
//   2. adapter-pg splits scripts on every `;` (breaks functions, comments)   -> one simple-protocol query
//   3. adapter-pg's shadow database connects to the MAIN database             -> our own shadow database
//   4. the WASM engine refuses createMigration/evaluateDataLoss on Postgres   -> computed with diff
//   5. the WASM engine returns diff output instead of printing it            -> sent as a `print` request
//   6. the pg pool keeps the process alive ~10 s after stdin closes          -> exit when the queue drains
// Not covered: data-loss warnings of `migrate dev` (see 4), `migrate dev` prompts that need them.
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);
const STANDIN = 'buildit schema-engine stand-in';

/** Log line in the engine's tracing JSON format: the CLI parses these from stderr. */
function log(level, message, extra = {}) {
  process.stderr.write(JSON.stringify({ level, target: 'schema_engine::logger', fields: { message, ...extra } }) + '\n');
}

/**
 * BUILDIT_SCHEMA_ENGINE_TRACE=FILE appends one line per invocation and per RPC call (`rpc <method> ok|error`),
 * so tests can prove the stand-in, not some other engine, did the work.
 */
function trace(line) {
  const file = process.env.BUILDIT_SCHEMA_ENGINE_TRACE;
  if (file) appendFileSync(file, `${process.pid} ${line}\n`);
}

/**
 * A premise of a workaround no longer holds (the packages changed under us). Thrown during start-up and then
 * sent as the JSON-RPC error of every request: the CLI prints it and exits non-zero. (If we simply exited,
 * some commands, `migrate status` among them, would end with exit code 0 and no output.)
 */
class BrokenPremise extends Error {
  constructor(what) {
    super(
      `${STANDIN}: ${what}. The installed Prisma packages no longer match what this stand-in was ` +
        'validated against (see the pins at the top of scripts/prisma-schema-engine.mjs); re-validate it with ' +
        '`node --import tsx --test tests/db/prisma-standin.test.ts`, or install the native schema engine.',
    );
    trace(`broken-premise ${what}`);
  }
}

const wasmGlueDir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));

// ---- `schema-engine --version`
if (process.argv.includes('--version') || process.argv.includes('-V')) {
  // Report the engines commit of the .wasm we run (the prisma CLI's own, see below), and the glue's.
  const cliRequire = createRequire(require.resolve('prisma/package.json'));
  const { enginesVersion } = cliRequire('@prisma/engines-version');
  const { version: glue } = JSON.parse(readFileSync(path.join(wasmGlueDir, 'package.json'), 'utf8'));
  process.stdout.write(`schema-engine-cli ${enginesVersion} (${STANDIN}: wasm of prisma, glue @prisma/schema-engine-wasm ${glue})\n`);
  process.exit(0);
}

// ---- arguments: [--datamodels PATH]... [--datasource JSON] [cli COMMAND]
const datamodelPaths = [];
let datasource = {};
let cliCommand = null;
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--datamodels') datamodelPaths.push(argv[++i]);
    else if (argv[i] === '--datasource') datasource = JSON.parse(argv[++i]);
    else if (argv[i] === 'cli') cliCommand = argv[++i] ?? '';
  }
}
const url = datasource.url ?? process.env.DATABASE_URL;
if (!url) {
  log('ERROR', `${STANDIN}: no datasource url (set DATABASE_URL or datasource.url in prisma.config.ts)`, { error_code: 'P1012' });
  process.exit(1);
}

const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;
const withDatabase = (u, db) => {
  const x = new URL(u);
  x.pathname = '/' + encodeURIComponent(db);
  return x.toString();
};
const databaseName = (u) => decodeURIComponent(new URL(u).pathname.slice(1)) || 'postgres';

/** CREATE/DROP DATABASE cannot run inside the target database: run them from the maintenance database. */
async function adminQuery(sql) {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

trace(cliCommand !== null ? `cli ${cliCommand}` : 'rpc-session');

// ---- one-shot `cli <command>` mode: the CLI uses it before opening the RPC session (e.g. migrate dev
// asks whether the database exists and offers to create it).
if (cliCommand !== null) {
  // The CLI discards the first stderr line of this mode (the native binary prints a banner there).
  process.stderr.write('\n');
  try {
    if (cliCommand === 'can-connect-to-database') {
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.end();
      } catch (e) {
        if (e?.code === '3D000') {
          log('ERROR', `Database \`${databaseName(url)}\` does not exist`, { error_code: 'P1003' });
          process.exit(1);
        }
        throw e;
      }
    } else if (cliCommand === 'create-database') {
      await adminQuery(`CREATE DATABASE ${quoteIdent(databaseName(url))}`);
    } else if (cliCommand === 'drop-database') {
      await adminQuery(`DROP DATABASE IF EXISTS ${quoteIdent(databaseName(url))}`);
    } else {
      throw new Error(`${STANDIN}: unsupported cli command "${cliCommand}"`);
    }
    trace(`cli ${cliCommand} ok`);
    process.exit(0);
  } catch (e) {
    log('ERROR', String(e?.message ?? e), { error_code: e?.code === 'ECONNREFUSED' ? 'P1001' : 'P1000' });
    process.exit(1);
  }
}

// Everything below runs in RPC mode. Start-up problems are reported through the RPC channel (see BrokenPremise).

/** Workaround 1 and 2 patch adapter-pg's classes; find them through a throwaway (never connected) instance. */
async function adapterPrototypeWith(method) {
  const probe = await new PrismaPg({ connectionString: 'postgresql://probe@127.0.0.1:1/probe' }).connect();
  let proto = Object.getPrototypeOf(probe);
  while (proto && !Object.hasOwn(proto, method)) proto = Object.getPrototypeOf(proto);
  const hasClient = typeof probe.client?.query === 'function';
  await probe.dispose().catch(() => {});
  if (!proto || !hasClient) throw new BrokenPremise(`@prisma/adapter-pg has no ${method}() (or no pg client) on its adapter any more`);
  return proto;
}

// ---- Workaround 1: the `"char"` type.
// The engine's introspection reads pg_catalog columns of type "char" (OID 18, e.g. pg_class.relkind).
// adapter-pg's fieldToColumnType has no mapping for OID 18 and throws UnsupportedNativeDataType, so every
// describe of a database fails ("Column type 'char' could not be deserialized": db push, migrate diff and dev;
// deploy/status do not describe). The values arrive as strings, so we present such columns as text to
// adapter-pg and then report them as ColumnTypeEnum.Character. The per-query state lives in an
// AsyncLocalStorage store (not on the shared adapter object) so concurrent queries cannot mix it up.
async function patchCharColumns() {
  const CHAR_OID = 18;
  const TEXT_OID = 25;
  const charColumns = new AsyncLocalStorage();
  const proto = await adapterPrototypeWith('queryRaw');
  if (typeof proto.performIO !== 'function') throw new BrokenPremise('@prisma/adapter-pg has no performIO() any more');
  const originalPerformIO = proto.performIO;
  const originalQueryRaw = proto.queryRaw;
  proto.performIO = async function performIO(query) {
    const result = await originalPerformIO.call(this, query);
    const store = charColumns.getStore();
    result?.fields?.forEach((field, i) => {
      if (field.dataTypeID === CHAR_OID) {
        field.dataTypeID = TEXT_OID;
        store?.push(i);
      }
    });
    return result;
  };
  proto.queryRaw = function queryRaw(query) {
    const indexes = [];
    return charColumns.run(indexes, async () => {
      const resultSet = await originalQueryRaw.call(this, query);
      for (const i of indexes) resultSet.columnTypes[i] = ColumnTypeEnum.Character;
      return resultSet;
    });
  };
}

// ---- Workaround 2: executeScript (how migrations and `db execute` scripts are run).
// adapter-pg 7.10.1 runs a script as `script.split(';')`, one query per piece. That breaks any migration
// with a `;` that does not end a statement: a PL/pgSQL function body ($$ ...; ...; $$, e.g. our job NOTIFY
// trigger), a string literal, a comment. The native engine sends the script as ONE simple-protocol query
// (PostgreSQL runs it as one implicit transaction, so a failing migration leaves nothing half-applied);
// do the same. pg's query() without parameters uses the simple protocol, which accepts many statements.
async function patchExecuteScript() {
  const proto = await adapterPrototypeWith('executeScript');
  if (typeof proto.onError !== 'function') throw new BrokenPremise('@prisma/adapter-pg has no onError() any more');
  proto.executeScript = async function executeScript(script) {
    try {
      await this.client.query(script);
    } catch (error) {
      this.onError(error); // converts to the DriverAdapterError the engine understands, and throws
    }
  };
}

// ---- Workaround 3: the shadow database.
// adapter-pg's connectToShadowDb() creates `prisma_migrate_shadow_db_<uuid>` and then opens a pool with
// `{ ...config, database }`; with a connectionString config, pg lets the connection string win, so the
// "shadow" pool is the MAIN database (migrate dev would replay migrations into it). It also drops the
// shadow database before closing its pool, which fails while the pool still holds connections.
// Ours: an explicit shadowDatabaseUrl is used as is; otherwise create a uniquely named database, connect
// to it by URL, and drop it after the pool is closed.
function createAdapterFactory() {
  const factory = new PrismaPg({ connectionString: url });
  factory.connectToShadowDb = async () => {
    if (datasource.shadowDatabaseUrl) return new PrismaPg({ connectionString: datasource.shadowDatabaseUrl }).connect();
    const name = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, '')}`;
    await adminQuery(`CREATE DATABASE ${quoteIdent(name)}`);
    const adapter = await new PrismaPg({ connectionString: withDatabase(url, name) }).connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await adminQuery(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
    };
    return adapter;
  };
  return factory;
}

// A Rust panic inside the WASM engine reports its message through this global before it unwinds.
let panicMessage = null;
globalThis.PRISMA_WASM_PANIC_REGISTRY = {
  set_message: (message) => {
    panicMessage = message;
  },
};

// ---- the WASM engine
// The .wasm comes from the prisma CLI package: it is built from the same engines commit as the CLI, so the
// RPC shapes match. The JS glue (wasm-bindgen imports) comes from @prisma/schema-engine-wasm; if the two
// drift apart, instantiation fails with a LinkError, which we turn into a clear message.
// (For re-validation: BUILDIT_SCHEMA_ENGINE_WASM=npm uses the .wasm of @prisma/schema-engine-wasm instead,
// any other value is taken as the path of a .wasm file.)
async function startEngine() {
  await patchCharColumns();
  await patchExecuteScript();
  const bg = await import(path.join(wasmGlueDir, 'schema_engine_bg.js'));
  if (typeof bg.__wbg_set_wasm !== 'function' || typeof bg.SchemaEngine?.new !== 'function') {
    throw new BrokenPremise('@prisma/schema-engine-wasm does not export __wbg_set_wasm/SchemaEngine.new any more');
  }
  const wasmOverride = process.env.BUILDIT_SCHEMA_ENGINE_WASM;
  const wasmFile =
    wasmOverride === 'npm'
      ? path.join(wasmGlueDir, 'schema_engine_bg.wasm')
      : wasmOverride
        ? path.resolve(wasmOverride)
        : path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'schema_engine_bg.wasm');
  let instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmFile)), { './schema_engine_bg.js': bg });
  } catch (e) {
    throw new BrokenPremise(`cannot instantiate ${wasmFile} with the JS glue of @prisma/schema-engine-wasm (${e?.message ?? e})`);
  }
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
  const datamodels = datamodelPaths.map((p) => [p, readFileSync(path.resolve(p), 'utf8')]);
  return bg.SchemaEngine.new(
    { datamodels: datamodels.length ? datamodels : undefined },
    (message) => process.stderr.write(String(message) + '\n'),
    bindMigrationAwareSqlAdapterFactory(createAdapterFactory()),
  );
}

const enginePromise = startEngine();
enginePromise.catch(() => {}); // reported per request, below

const write = (message) => process.stdout.write(JSON.stringify(message) + '\n');

// ---- Workaround 4: createMigration and evaluateDataLoss (migrate dev).
// The WASM build refuses both for PostgreSQL ("shadow DB must be provided through an external factory"),
// although `diff` from a migrations directory does use the factory's shadow database. So both are computed
// with diff(migrations -> schema):
// - createMigration: the diff script IS the migration.
// - evaluateDataLoss: the number of steps comes from the diff; the data-loss WARNINGS cannot be computed
//   this way, so `migrate dev` does not warn before e.g. dropping a column (it is for development databases;
//   review the generated SQL). We say so on stderr.
async function diffMigrationsToSchema(engine, params) {
  const from = params.migrationsList.migrationDirectories.length ? { tag: 'migrations', ...params.migrationsList } : { tag: 'empty' };
  const result = await engine.diff({
    from,
    to: { tag: 'schemaDatamodel', ...params.schema },
    script: true,
    exitCode: true,
    filters: params.filters,
  });
  return { script: result.stdout ?? '', changed: result.exitCode === 2 }; // diff --exit-code: 2 = different
}

async function createMigration(engine, params) {
  const { script, changed } = await diffMigrationsToSchema(engine, params);
  const timestamp = new Date()
    .toISOString()
    .replace(/[-:TZ]/g, '')
    .slice(0, 14);
  return {
    connectorType: 'postgresql',
    generatedMigrationName: `${timestamp}_${params.migrationName || 'migration'}`,
    migrationScript: changed ? script : params.draft ? '-- This is an empty migration.' : null,
    extension: 'sql',
  };
}

async function evaluateDataLoss(engine, params) {
  const { script, changed } = await diffMigrationsToSchema(engine, params);
  if (changed) {
    log(
      'WARN',
      `${STANDIN}: data-loss warnings are not available with the WASM engine; review the generated migration before applying it to a database whose data matters`,
    );
  }
  const steps = changed ? Math.max(1, (script.match(/^-- [A-Z]\w+/gm) ?? []).length) : 0;
  return { migrationSteps: steps, warnings: [], unexecutableSteps: [] };
}

const handlers = {
  getDatabaseVersion: (engine) => engine.version(),
  version: (engine) => engine.version(),
  createMigration,
  evaluateDataLoss,
  // ---- Workaround 5: diff output. The native engine sends the script to the CLI as a `print` request and
  // the CLI prints it; the WASM engine returns it in `stdout`, which the CLI ignores. Forward it as `print`.
  diff: async (engine, params) => {
    const result = await engine.diff(params);
    if (result?.stdout) {
      write({ jsonrpc: '2.0', id: `print-${randomUUID()}`, method: 'print', params: { content: result.stdout.replace(/\n$/, '') } });
    }
    return { exitCode: result?.exitCode ?? 0 };
  },
  createDatabase: async () => {
    const name = databaseName(url);
    await adminQuery(`CREATE DATABASE ${quoteIdent(name)}`);
    return { databaseName: name };
  },
};

async function callEngine(method, params) {
  const engine = await enginePromise;
  const handler = handlers[method];
  if (handler) return handler(engine, params);
  if (typeof engine[method] !== 'function') throw new Error(`${STANDIN}: method ${method} is not supported by the WASM engine`);
  return engine[method](params ?? {});
}

// Requests are answered one at a time, in order, as the native engine does.
let queue = Promise.resolve();
let failed = false;
const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const request = JSON.parse(line);
  if (request.id === undefined || !request.method) return; // a reply to one of our `print` requests
  queue = queue.then(async () => {
    inFlight = request;
    try {
      const result = (await callEngine(request.method, request.params)) ?? {};
      trace(`rpc ${request.method} ok`); // before replying: the CLI may kill us as soon as it has the reply
      write({ jsonrpc: '2.0', id: request.id, result });
    } catch (e) {
      replyWithError(request, e);
    } finally {
      inFlight = null;
    }
  });
});

let inFlight = null;
function replyWithError(request, e) {
  trace(`rpc ${request.method} error`);
  failed = true;
  const isPanic = panicMessage !== null || e instanceof WebAssembly.RuntimeError;
  const message = panicMessage ?? String(e?.message ?? e);
  panicMessage = null;
  if (e instanceof BrokenPremise) process.stderr.write(message + '\n');
  write({
    jsonrpc: '2.0',
    id: request.id,
    error: {
      code: 4466,
      message: 'An error happened. Check the data field for details.',
      data: { is_panic: isPanic, message, error_code: e?.code ?? e?.error_code, meta: e?.meta, error: { message } },
    },
  });
}

// A crash outside a request's promise chain (e.g. an idle pg connection failing) must still reach the CLI as
// an error: when the engine process just dies, some commands end with exit code 0 and no output.
function crash(e) {
  log('ERROR', `${STANDIN} crashed: ${e?.stack ?? e}`);
  if (inFlight) replyWithError(inFlight, e);
  process.exit(1);
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// ---- Workaround 6: exit. The adapter's pg pool keeps the event loop alive for its idle timeout (~10 s)
// after the CLI closes our stdin; the native engine exits at once, so do the same once the queue drains.
lines.on('close', () => {
  queue.then(() => process.exit(failed ? 1 : 0));
});
