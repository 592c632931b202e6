/**
 * BuildIt's files on the host a worker (or `buildit run`) works on, shared by the executors that run
 * there (local, docker) and by the artifact and cache stores:
 *
 *   RUNS_ROOT/RUN_ID/workspace/   the run's workspace (the local executor's cwd, /workspace in containers)
 *   RUNS_ROOT/RUN_ID/artifacts/   STAGE/...   (see artifacts.ts)
 *   CACHE_ROOT/...                cache volumes (see cache.ts), named relative to CACHE_ROOT in jobs
 *
 * Jobs never carry these paths: an executor resolves a job's run and volumes here, so an executor
 * whose storage is elsewhere (a Kubernetes volume) can take the same jobs.
 *
 * `copySource` fills a workspace with a copy of a directory: in a git work tree, the files git would see
 * (tracked and untracked ones, minus what .gitignore excludes, as `act` does), so a run sees what CI
 * would get from the repository, not node_modules or build output (copying those made `buildit run`
 * here take 23 s for 900 MB); outside git, everything except a top-level `.git`. The copy is
 * `cp -a --reflink=auto` (native, block clones on CoW file systems).
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { copyRelativePathsInto } from './copy';

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

export class HostStorage {
  readonly runsRoot: string;
  readonly cacheRoot: string;
  /** Runs whose workspace is a directory of the user's (`buildit run --workspace DIR`). */
  private readonly inPlace = new Map<string, string>();

  constructor(options: { runsRoot: string; cacheRoot: string }) {
    this.runsRoot = path.resolve(options.runsRoot);
    this.cacheRoot = path.resolve(options.cacheRoot);
  }

  runDir(runId: string): string {
    if (!SAFE_SEGMENT.test(runId) || runId.includes('..')) {
      throw new Error(`run id ${JSON.stringify(runId)} cannot be used as a directory name (letters, digits, _ . - only)`);
    }
    return path.join(this.runsRoot, runId);
  }

  workspaceDir(runId: string): string {
    return this.inPlace.get(runId) ?? path.join(this.runDir(runId), 'workspace');
  }

  artifactsDir(runId: string): string {
    return path.join(this.runDir(runId), 'artifacts');
  }

  /** The directory of a cache volume named in a job (a path relative to the cache root that stays inside it). */
  volumeDir(volume: string): string {
    const dir = path.resolve(this.cacheRoot, volume);
    if (path.isAbsolute(volume) || !dir.startsWith(this.cacheRoot + path.sep))
      throw new Error(`volume ${JSON.stringify(volume)} is not inside the cache storage`);
    return dir;
  }

  /** The volume name of a directory inside the cache root (what a job carries). */
  volumeName(dir: string): string {
    return path.relative(this.cacheRoot, dir);
  }

  /** The run works in `dir` in place: nothing of it is ever removed by BuildIt. */
  useInPlace(runId: string, dir: string): void {
    this.inPlace.set(runId, path.resolve(dir));
  }

  /** Creates the workspace and the artifact store of a run; idempotent. */
  async prepareRun(runId: string): Promise<void> {
    await mkdir(this.workspaceDir(runId), { recursive: true });
    await mkdir(this.artifactsDir(runId), { recursive: true });
  }

  /** Copies `sourceDir` into the run's workspace (see the header). */
  async copySource(runId: string, sourceDir: string): Promise<void> {
    const dir = this.workspaceDir(runId);
    const source = path.resolve(sourceDir);
    const info = await stat(source).catch(() => null);
    if (!info?.isDirectory()) throw new Error(`source directory ${source} does not exist or is not a directory`);
    await mkdir(dir, { recursive: true });
    // Copying a tree into itself would recurse: never copy the folder that holds the workspaces.
    const runsInSource = dir.startsWith(source + path.sep) ? path.relative(source, this.runsRoot).split(path.sep)[0]! : null;
    const gitFiles = await listGitVisibleFiles(source);
    if (gitFiles) {
      const files = gitFiles.filter((file) => runsInSource === null || file.split('/')[0] !== runsInSource);
      await copyRelativePathsInto(source, await existingPaths(source, files), dir);
    } else {
      const entries = (await readdir(source)).filter((name) => name !== '.git' && name !== runsInSource);
      await copyRelativePathsInto(source, entries, dir);
    }
  }

  /** Removes the workspace (never an in-place one); the artifact store stays for re-runs. Idempotent. */
  async removeWorkspace(runId: string): Promise<void> {
    if (this.inPlace.has(runId)) return;
    await rm(this.workspaceDir(runId), { recursive: true, force: true, maxRetries: 3 });
  }

  /** Removes everything of the run (its workspace unless in place, its artifacts). Idempotent. */
  async removeRun(runId: string): Promise<void> {
    await rm(this.runDir(runId), { recursive: true, force: true, maxRetries: 3 });
    this.inPlace.delete(runId);
  }
}

/**
 * Files git sees in `source` (tracked, plus untracked ones not ignored), relative to it; null when
 * `source` is not the top of a git work tree or git is not installed.
 */
function listGitVisibleFiles(source: string): Promise<string[] | null> {
  return new Promise((resolve) => {
    execFile('git', ['-C', source, 'rev-parse', '--show-prefix'], (error, prefix) => {
      // A non-empty prefix means `source` is a subfolder of a repository: copy it as a plain folder.
      if (error || prefix.trim() !== '') return resolve(null);
      execFile('git', ['-C', source, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { maxBuffer: 256 * 1024 * 1024 }, (listError, stdout) =>
        resolve(listError ? null : stdout.split('\0').filter(Boolean)),
      );
    });
  });
}

/** Drops files deleted in the work tree but still in git's index. */
async function existingPaths(source: string, files: string[]): Promise<string[]> {
  const present = await Promise.all(
    files.map((file) =>
      lstat(path.join(source, file)).then(
        () => true,
        () => false,
      ),
    ),
  );
  return files.filter((_, index) => present[index]);
}
