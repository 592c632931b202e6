/**
 * Clone caching: one bare mirror per repository URL in the data dir, and checkouts made from it.
 *
 *   DATA_DIR/mirrors/HASH(url).git        `git clone --mirror URL`, then `git fetch --prune` (all refs)
 *   DATA_DIR/mirrors/locks/HASH(url).lock one writer per mirror (KeyLock: an atomic mkdir, broken when its
 *                                         holder died), held while cloning or fetching
 *
 * A mirror is fetched only when the commit a run needs is missing (a second run of the same commit, or a
 * re-run, talks to the remote not at all). Readers (`git show`, a workspace's fetch) need no lock: git
 * updates refs and packs atomically. A first clone goes to a temporary directory renamed into place, so a
 * half-made mirror is never used.
 *
 * A workspace is filled with `git init` + `git fetch [--depth N] file://MIRROR SHA` + `git checkout --detach
 * SHA` (the mirror allows fetching any sha): the result is self-contained (no `alternates` naming a host path,
 * which a container would not see at /workspace), shallow by default, and costs a local pack of that commit
 * (see bench/checkout.bench.ts). `origin` is then set to the repository URL, without credentials.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { KeyLock } from '../engine/workspace/cache';
import { fileRepositoriesFromEnv } from '../config/env';
import { displayUrl, GitError, refuseUnsupportedUrl, runGit, type GitCredentials } from './git';

export type GitLine = (stream: 'stdout' | 'stderr' | 'system', line: string) => void;

const FULL_SHA = /^[0-9a-f]{40}$/;

export class MirrorStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  static inDataDir(dataDir: string): MirrorStore {
    return new MirrorStore(path.join(dataDir, 'mirrors'));
  }

  private hash(url: string): string {
    return createHash('sha256').update(url).digest('hex').slice(0, 32);
  }

  dirFor(url: string): string {
    return path.join(this.root, `${this.hash(url)}.git`);
  }

  private lockFor(url: string): KeyLock {
    return new KeyLock(path.join(this.root, 'locks', `${this.hash(url)}.lock`), { staleMs: 10 * 60_000, timeoutMs: 30 * 60_000, pollMs: 100 });
  }

  /** The full sha of `rev` when the mirror has that commit, else null. */
  async commitOf(url: string, rev: string): Promise<string | null> {
    const dir = this.dirFor(url);
    if (!(await exists(dir))) return null;
    try {
      return (await runGit(['--git-dir', dir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  /**
   * Makes sure the mirror of `url` holds `rev` (a sha, full or abbreviated): clones it the first time, fetches
   * when the commit is missing (one writer at a time). Returns the mirror's directory and the full sha.
   */
  async ensureCommit(
    url: string,
    rev: string,
    options: { credentials: GitCredentials; onLine?: GitLine; signal?: AbortSignal },
  ): Promise<{ dir: string; sha: string }> {
    refuseUnsupportedUrl(url);
    const dir = this.dirFor(url);
    const known = await this.commitOf(url, rev);
    if (known) {
      options.onLine?.('system', `mirror of ${displayUrl(url)} already has ${known}`);
      return { dir, sha: known };
    }
    const release = await this.lockFor(url).acquire();
    try {
      const again = await this.commitOf(url, rev); // another writer may have fetched it while we waited
      if (again) return { dir, sha: again };
      const git = (args: string[], cwd?: string) =>
        runGit(args, {
          env: options.credentials.env,
          ...(cwd ? { cwd } : {}),
          ...(options.onLine ? { onLine: options.onLine } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      if (!(await exists(dir))) {
        options.onLine?.('system', `$ git clone --mirror ${displayUrl(url)}`);
        await mkdir(this.root, { recursive: true });
        const temp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
        try {
          await git(['clone', '--mirror', '--progress', '--', url, temp]);
          // Workspaces fetch single commits by sha from here.
          await runGit(['--git-dir', temp, 'config', 'uploadpack.allowAnySHA1InWant', 'true']);
          await rename(temp, dir);
        } catch (error) {
          await rm(temp, { recursive: true, force: true });
          throw error;
        }
      } else {
        options.onLine?.('system', `$ git fetch --prune ${displayUrl(url)}`);
        await git(['--git-dir', dir, 'fetch', '--prune', '--progress', 'origin']);
      }
      const sha = await this.commitOf(url, rev);
      if (!sha) {
        throw new GitError(
          `commit ${rev} is not in ${displayUrl(url)} (not on any branch or tag after fetching)`,
          'unknown ref: check the branch, tag or sha (the commit must exist in the repository)',
          '',
        );
      }
      return { dir, sha };
    } finally {
      await release();
    }
  }

  /**
   * The files changed from where `base` (a commit or a branch of the mirror) and `sha` meet to `sha`
   * (`git diff --name-only $(git merge-base BASE SHA) SHA`): a push's own changes when `base` is its
   * `before`, a branch's changes when `base` is the branch it came from.
   */
  async changedFiles(url: string, base: string, sha: string): Promise<string[]> {
    if (!FULL_SHA.test(sha)) throw new Error(`changedFiles needs a full sha, got ${JSON.stringify(sha)}`);
    const dir = this.dirFor(url);
    const ref = FULL_SHA.test(base) ? base : `refs/heads/${base}`;
    const mergeBase = (await runGit(['--git-dir', dir, 'merge-base', ref, sha])).trim();
    const out = await runGit(['--git-dir', dir, 'diff', '--name-only', '--no-renames', '-z', mergeBase, sha]);
    return out.split('\0').filter((file) => file !== '');
  }

  /** The content of `file` at `sha` in the mirror (`git show SHA:FILE`), or null when the commit has no such file. */
  async readFile(url: string, sha: string, file: string): Promise<string | null> {
    if (!FULL_SHA.test(sha)) throw new Error(`readFile needs a full sha, got ${JSON.stringify(sha)}`);
    try {
      return await runGit(['--git-dir', this.dirFor(url), 'show', `${sha}:${file.replace(/^\.\//, '')}`]);
    } catch (error) {
      if (error instanceof GitError && /does not exist|exists on disk, but not in/.test(error.message)) return null;
      throw error;
    }
  }
}

export interface WorkspaceCheckout {
  workspace: string;
  /** The repository URL, set as `origin` (never with credentials). */
  url: string;
  mirrorDir: string;
  sha: string;
  /** Commits to fetch; 0 = the whole history. */
  depth: number;
  submodules: boolean;
  credentials: GitCredentials;
  onLine?: GitLine;
  signal?: AbortSignal;
}

/** Fills an empty (or absent) workspace with the commit from the mirror; returns the commit's subject and author. */
export async function checkoutFromMirror(options: WorkspaceCheckout): Promise<{ message: string; author: string }> {
  const { workspace, onLine } = options;
  await mkdir(workspace, { recursive: true });
  const base = { cwd: workspace, ...(onLine ? { onLine } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const depth = options.depth > 0 ? [`--depth=${options.depth}`] : [];
  onLine?.('system', `$ git fetch ${depth.join(' ')} ${displayUrl(options.url)} ${options.sha} (from the local mirror)`.replace(/\s+/g, ' '));
  await runGit(['init', '--quiet', '.'], base);
  await runGit(['fetch', '--quiet', '--no-tags', ...depth, '--', `file://${options.mirrorDir}`, options.sha], base);
  onLine?.('system', `$ git checkout --detach ${options.sha}`);
  await runGit(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', options.sha], base);
  await runGit(['remote', 'add', 'origin', displayUrl(options.url)], base);
  if (options.submodules) {
    onLine?.('system', `$ git submodule update --init --recursive${depth.length ? ` ${depth[0]}` : ''}`);
    // git refuses file:// submodules by default (they read the host's files); allowed only with file:// repositories.
    const fileProtocol = fileRepositoriesFromEnv() ? ['-c', 'protocol.file.allow=always'] : [];
    await runGit([...fileProtocol, 'submodule', 'update', '--init', '--recursive', ...depth], {
      ...base,
      env: { ...options.credentials.env },
    });
  }
  const [message = '', author = ''] = (await runGit(['log', '-1', '--format=%s%n%an <%ae>', options.sha], { cwd: workspace })).split('\n');
  return { message, author };
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null)) !== null;
}

/** For tests: what a workspace's `.git/config` says. */
export function readGitConfig(workspace: string): Promise<string> {
  return readFile(path.join(workspace, '.git', 'config'), 'utf8');
}
