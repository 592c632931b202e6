/**
 * Caches: directories (node_modules, ~/.npm, .gradle, ...) kept between runs under a key.
 *
 *   ROOT/entries/HASH(key)/current -> v-ID        the saved copy, swapped atomically (symlink rename)
 *   ROOT/entries/HASH(key)/v-ID/meta.json, p/ENCODED_PATH/...
 *   ROOT/locks/HASH(key).lock/owner.json          one writer per key (see KeyLock)
 *   ROOT/scratch/ID/ENCODED_PATH/                 one per attempt, what the stage sees
 *
 * `prepare` copies the saved content for the key into a fresh per-attempt scratch directory and
 * returns it as `mounts`; the executor binds it at each path (docker: the path as given, a relative
 * path under /workspace) or links it into the workspace (local: the local executor symlinks
 * workspace/PATH -> scratch; an ABSOLUTE path on local is the host's own directory, which persists by
 * itself, so it is left alone: no mount, no restore, no save). Because every attempt has its own scratch copy,
 * concurrent stages with the same key never see each other's half-written state.
 *
 * `save()` (after the stage succeeded) copies the scratch into a new version directory, then swaps
 * `current` with a rename, all while holding the key's lock: a concurrent prepare sees the old or the
 * new version, never a mix. The version that was current just before stays on disk until the next
 * save, so a restore that started from it can finish. `release()` deletes the scratch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, readlink, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { isProcessAlive } from '../../system';
import type { StageJob } from '../executors/types';
import { copyDirContents } from './copy';

export interface CacheLease {
  mounts: StageJob['mounts'];
  /** True when a saved copy for the key was restored. */
  hit: boolean;
  /** Stores the scratch content as the key's new copy (atomically, one writer per key). */
  save(): Promise<void>;
  /** Deletes the per-attempt scratch. Idempotent; call it in every case. */
  release(): Promise<void>;
}

export interface CacheStoreOptions {
  /** A lock whose holder is not seen alive (same host: pid gone) or not refreshed for this long is broken. Default 10 min. */
  staleLockMs?: number;
  /** How long `save` waits for another writer before failing. Default 10 min. */
  lockTimeoutMs?: number;
  /** Poll interval while waiting for a lock. Default 50 ms. */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function encodePath(cachePath: string): string {
  return encodeURIComponent(cachePath).replace(/\./g, '%2E').replace(/\*/g, '%2A');
}

interface LockOwner {
  token: string;
  pid: number;
  host: string;
  since: string;
}

/**
 * A cross-process lock: `mkdir` is atomic on every local file system, so exactly one process (or one
 * caller in this process) creates the directory. The holder writes owner.json and refreshes the
 * directory's mtime while it holds the lock; a waiter breaks the lock when the owner is a dead pid on
 * this host or the mtime is older than `staleMs` (holder on another host died). Breaking renames the
 * lock directory away first, so only one waiter breaks it.
 */
export class KeyLock {
  constructor(
    private readonly dir: string,
    private readonly options: { staleMs: number; timeoutMs: number; pollMs: number },
  ) {}

  async acquire(): Promise<() => Promise<void>> {
    const deadline = Date.now() + this.options.timeoutMs;
    const owner: LockOwner = { token: randomBytes(8).toString('hex'), pid: process.pid, host: hostname(), since: new Date().toISOString() };
    await mkdir(path.dirname(this.dir), { recursive: true });
    for (;;) {
      try {
        await mkdir(this.dir);
        await writeFile(path.join(this.dir, 'owner.json'), JSON.stringify(owner));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      await this.breakIfStale();
      if (Date.now() > deadline) {
        const holder = await this.readOwner();
        throw new Error(
          `cache lock ${this.dir} is still held${holder ? ` by pid ${holder.pid} on ${holder.host} since ${holder.since}` : ''} after ${this.options.timeoutMs} ms`,
        );
      }
      await sleep(this.options.pollMs);
    }
    // Refresh the mtime while held (so waiters on other hosts do not think it stale); stop as soon
    // as the lock is not ours any more (broken by a waiter after a long stall).
    const heartbeat = setInterval(
      () => {
        void this.readOwner().then((current) => {
          if (current?.token !== owner.token) return clearInterval(heartbeat);
          const now = new Date();
          return utimes(this.dir, now, now).catch(() => undefined);
        });
      },
      Math.max(100, Math.floor(this.options.staleMs / 3)),
    );
    heartbeat.unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      const current = await this.readOwner();
      if (current?.token === owner.token) await rm(this.dir, { recursive: true, force: true });
    };
  }

  private async readOwner(): Promise<LockOwner | null> {
    try {
      return JSON.parse(await readFile(path.join(this.dir, 'owner.json'), 'utf8')) as LockOwner;
    } catch {
      return null;
    }
  }

  private async breakIfStale(): Promise<void> {
    const info = await stat(this.dir).catch(() => null);
    if (!info) return;
    const owner = await this.readOwner();
    const deadOnThisHost = owner !== null && owner.host === hostname() && !isProcessAlive(owner.pid);
    const expired = Date.now() - info.mtimeMs > this.options.staleMs;
    if (!deadOnThisHost && !expired) return;
    // Re-check it is still the same holder, then move it away atomically (one breaker wins).
    const again = await this.readOwner();
    if (owner && again?.token !== owner.token) return;
    const graveyard = `${this.dir}.stale-${randomBytes(4).toString('hex')}`;
    try {
      await rename(this.dir, graveyard);
    } catch {
      return;
    }
    await rm(graveyard, { recursive: true, force: true });
  }
}

export class CacheStore {
  readonly root: string;
  private readonly lockOptions: { staleMs: number; timeoutMs: number; pollMs: number };

  constructor(root: string, options: CacheStoreOptions = {}) {
    this.root = path.resolve(root);
    this.lockOptions = {
      staleMs: options.staleLockMs ?? 10 * 60_000,
      timeoutMs: options.lockTimeoutMs ?? 10 * 60_000,
      pollMs: options.pollMs ?? 50,
    };
  }

  private keyHash(key: string): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 40);
  }

  private entryDir(key: string): string {
    return path.join(this.root, 'entries', this.keyHash(key));
  }

  /** The lock that serializes writers of `key`; exposed for tests and maintenance. */
  lockFor(key: string): KeyLock {
    return new KeyLock(path.join(this.root, 'locks', `${this.keyHash(key)}.lock`), this.lockOptions);
  }

  async withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.lockFor(key).acquire();
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /** The directory of the key's current saved copy, or null when nothing was saved yet. */
  async currentVersionDir(key: string): Promise<string | null> {
    const entry = this.entryDir(key);
    const target = await readlink(path.join(entry, 'current')).catch(() => null);
    return target ? path.join(entry, target) : null;
  }

  async prepare(options: { key: string; paths: string[]; executor: string }): Promise<CacheLease> {
    if (!options.key) throw new Error('cache key must not be empty');
    for (const cachePath of options.paths) {
      if (!cachePath || cachePath.split(/[\\/]/).includes('..')) {
        throw new Error(`cache path ${JSON.stringify(cachePath)} must not be empty or contain '..'`);
      }
    }
    // On local, an absolute path (`/root/.npm`) IS the host's own directory, which already persists
    // between runs: it is neither mounted, restored nor saved.
    const paths = options.executor === 'local' ? options.paths.filter((p) => !path.isAbsolute(p)) : options.paths;
    const scratch = path.join(this.root, 'scratch', `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
    const version = await this.currentVersionDir(options.key);
    let hit = false;
    const mounts: StageJob['mounts'] = [];
    for (const cachePath of paths) {
      const hostPath = path.join(scratch, encodePath(cachePath));
      await mkdir(hostPath, { recursive: true });
      const saved = version ? path.join(version, 'p', encodePath(cachePath)) : null;
      if (saved && (await stat(saved).catch(() => null))?.isDirectory()) {
        await copyDirContents(saved, hostPath);
        hit = true;
      }
      mounts.push({ volume: path.relative(this.root, hostPath), path: cachePath });
    }

    let released = false;
    return {
      mounts,
      hit,
      save: async () => {
        if (released) throw new Error(`cache ${options.key}: save() after release()`);
        if (paths.length === 0) return;
        await this.withKeyLock(options.key, () => this.store(options.key, paths, scratch));
      },
      release: async () => {
        released = true;
        await rm(scratch, { recursive: true, force: true, maxRetries: 3 });
      },
    };
  }

  private async store(key: string, paths: string[], scratch: string): Promise<void> {
    const entry = this.entryDir(key);
    const id = `v-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const temp = path.join(entry, `${id}.tmp`);
    await mkdir(path.join(temp, 'p'), { recursive: true });
    try {
      for (const cachePath of paths) {
        const target = path.join(temp, 'p', encodePath(cachePath));
        await mkdir(target, { recursive: true });
        await copyDirContents(path.join(scratch, encodePath(cachePath)), target);
      }
      await writeFile(path.join(temp, 'meta.json'), JSON.stringify({ key, paths, savedAt: new Date().toISOString() }, null, 2));
      await rename(temp, path.join(entry, id));
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
    const previous = await readlink(path.join(entry, 'current')).catch(() => null);
    const link = path.join(entry, `current.tmp-${randomBytes(4).toString('hex')}`);
    await symlink(id, link);
    await rename(link, path.join(entry, 'current')); // atomic swap
    // Keep the new and the previous version (a restore may still be reading it); drop the rest.
    for (const name of await readdir(entry)) {
      if (name === 'current' || name === id || name === previous) continue;
      if (name.startsWith('v-') || name.startsWith('current.tmp-')) await rm(path.join(entry, name), { recursive: true, force: true });
    }
  }
}
