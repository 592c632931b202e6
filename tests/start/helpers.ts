// Shared by the `npm start` end-to-end tests: the embedded database's URL, processes by parent, waiting for a
// condition, and a private copy of this working tree (a clone under /root, as far as the postgres user can tell).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sleep } from '../../lib/async';

const root = path.resolve(import.meta.dirname, '../..');

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The URL of the embedded PostgreSQL of `dataDir`, from the state file it keeps there. */
export function embeddedUrl(dataDir: string): string {
  const state = JSON.parse(readFileSync(path.join(dataDir, 'postgres.json'), 'utf8')) as {
    port: number;
    user: string;
    password: string;
    database: string;
  };
  return `postgresql://${state.user}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${state.database}`;
}

export function envWithout(names: string[], extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of names) delete env[name];
  return env;
}

/** Polls `check` until it returns a value other than undefined/false; fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The live children of `parentPid` whose command line contains `marker` (from /proc). */
export function childPids(parentPid: number, marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export interface PrivateClone {
  /** The directory of mode 0700 that holds the clone. */
  privateDir: string;
  /** The clone itself: `<privateDir>/repo`. */
  repo: string;
  remove(): void;
}

/**
 * This working tree (uncommitted changes included) copied to `<a new 0700 dir>/repo`, like a clone under /root:
 * its node_modules (with the bundled PostgreSQL binaries) and its `.data` are out of the postgres user's reach.
 * node_modules is hard-linked (copied when /tmp is on another file system), the web build copied, so it starts
 * without `npm install` and, unless sources changed meanwhile, without a build.
 */
export function makePrivateClone(): PrivateClone {
  const privateDir = mkdtempSync(path.join(tmpdir(), 'buildit-private-'));
  chmodSync(privateDir, 0o700);
  const repo = path.join(privateDir, 'repo');
  const skipped = new Set(['.git', '.data', 'tmp', 'node_modules']);
  mkdirSync(repo);
  for (const entry of readdirSync(root).filter((name) => !skipped.has(name))) {
    execFileSync('cp', ['-a', path.join(root, entry), repo]);
  }
  try {
    execFileSync('cp', ['-al', path.join(root, 'node_modules'), repo], { stdio: 'ignore' });
  } catch {
    rmSync(path.join(repo, 'node_modules'), { recursive: true, force: true });
    execFileSync('cp', ['-a', path.join(root, 'node_modules'), repo]);
  }
  return { privateDir, repo, remove: () => rmSync(privateDir, { recursive: true, force: true }) };
}
