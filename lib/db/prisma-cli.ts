// Runs the real Prisma CLI (node_modules/prisma/build/index.js) with the settings this project needs on
// every machine: no telemetry (CHECKPOINT_DISABLE=1) and a schema engine that works offline.
//
// Prisma's native `schema-engine` binary is downloaded from Prisma's binary host at install time; where
// only the npm registry is reachable that download fails silently and every `prisma migrate` command
// fails. Then PRISMA_SCHEMA_ENGINE_BINARY points at scripts/prisma-schema-engine.mjs, which runs Prisma's
// WASM engine instead. An env-provided PRISMA_SCHEMA_ENGINE_BINARY always wins; a native engine in
// node_modules is preferred over the stand-in.
// The command-line entry is scripts/prisma.ts (`npm run prisma -- ...`).
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const prismaCliPath = path.join(repoRoot, 'node_modules', 'prisma', 'build', 'index.js');
export const schemaEngineStandinPath = path.join(repoRoot, 'scripts', 'prisma-schema-engine.mjs');

/**
 * The native schema engine, if installed: the CLI looks for `schema-engine-<binaryTarget>` in
 * @prisma/engines, then next to the prisma package (see `resolveBinary` in prisma/build/cli.js).
 */
export function findNativeSchemaEngine(): string | null {
  const dirs = [path.join(repoRoot, 'node_modules', '@prisma', 'engines'), path.join(repoRoot, 'node_modules', 'prisma'), path.join(repoRoot, 'node_modules')];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (/^schema-engine-[a-z0-9._-]+$/.test(name) && !/\.(gz|sha256|tmp)$/.test(name)) return path.join(dir, name);
    }
  }
  return null;
}

/** An environment map (NodeJS.ProcessEnv without Next's required NODE_ENV). */
export type Env = Record<string, string | undefined>;

export type SchemaEngineChoice = { kind: 'env'; path: string } | { kind: 'native'; path: string } | { kind: 'standin'; path: string };

export function chooseSchemaEngine(env: Env = process.env): SchemaEngineChoice {
  const fromEnv = env.PRISMA_SCHEMA_ENGINE_BINARY;
  if (fromEnv) return { kind: 'env', path: fromEnv };
  const native = findNativeSchemaEngine();
  if (native) return { kind: 'native', path: native };
  return { kind: 'standin', path: schemaEngineStandinPath };
}

/** The CLI spawns the engine as a program; a checkout or archive that lost the exec bit would fail with EACCES. */
function ensureExecutable(file: string): void {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    chmodSync(file, statSync(file).mode | 0o111);
  }
}

/** The environment the Prisma CLI runs with. `databaseUrl` overrides DATABASE_URL (read by prisma.config.ts). */
export function prismaEnv(options: { databaseUrl?: string; env?: Env } = {}): Env {
  const base = options.env ?? process.env;
  const env: Env = { ...base, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const engine = chooseSchemaEngine(base);
  if (engine.kind === 'standin') {
    ensureExecutable(engine.path);
    // The CLI executes the stand-in directly (`#!/usr/bin/env node`): make sure that finds this node.
    env.PATH = [path.dirname(process.execPath), base.PATH ?? ''].filter(Boolean).join(path.delimiter);
  }
  if (engine.kind !== 'env') {
    // Also set for a native engine: `prisma generate` otherwise retries the download.
    env.PRISMA_SCHEMA_ENGINE_BINARY = engine.path;
  }
  return env;
}

export interface RunPrismaOptions {
  databaseUrl?: string;
  /** Defaults to the repository root (where prisma.config.ts is). */
  cwd?: string;
  env?: Env;
  /** Capture stdout/stderr instead of inheriting the terminal (default: capture). */
  stdio?: 'capture' | 'inherit';
  timeoutMs?: number;
}

export interface RunPrismaResult {
  code: number;
  stdout: string;
  stderr: string;
  engine: SchemaEngineChoice;
  durationMs: number;
}

/** Runs `prisma <args>`; resolves with the exit code and output (never rejects for a non-zero exit). */
export function runPrisma(args: readonly string[], options: RunPrismaOptions = {}): Promise<RunPrismaResult> {
  const env = prismaEnv({ databaseUrl: options.databaseUrl, env: options.env });
  const engine = chooseSchemaEngine(options.env ?? process.env);
  const started = performance.now();
  const inherit = options.stdio === 'inherit';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prismaCliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: env as NodeJS.ProcessEnv,
      stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr: signal ? `${stderr}\nprisma was killed by ${signal}` : stderr,
        engine,
        durationMs: performance.now() - started,
      });
    });
  });
}
