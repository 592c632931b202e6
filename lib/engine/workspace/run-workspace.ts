/**
 * The run workspace: one directory per run, shared by all its stages (the local executor's cwd, the
 * docker executor's /workspace), and the run's artifact store beside it:
 *
 *   ROOT/RUN_ID/workspace/   a copy of the source
 *   ROOT/RUN_ID/artifacts/   STAGE/...   (see artifacts.ts)
 *
 * What is copied: in a git work tree, the files git would see — tracked and untracked ones, minus
 * what .gitignore excludes (as `act` does) — so a run sees what CI would get from the repository, not
 * node_modules or build output (copying those made `buildit run` here take 23 s for 900 MB). Outside git,
 * everything except a top-level `.git`. The copy is `cp -a --reflink=auto` (native, block clones on CoW
 * file systems).
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { copyRelativePathsInto } from './copy';

export interface RunWorkspace {
  /** Host path of the workspace (StageJob.workspace). */
  dir: string;
  /** Host path of the run's artifact store (collectArtifacts / restoreArtifacts). */
  artifactsDir: string;
  /** Deletes the workspace and the artifacts of the run. Idempotent. */
  remove(): Promise<void>;
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

export async function createRunWorkspace(options: { root: string; runId: string; sourceDir?: string }): Promise<RunWorkspace> {
  if (!SAFE_SEGMENT.test(options.runId) || options.runId.includes('..')) {
    throw new Error(`run id ${JSON.stringify(options.runId)} cannot be used as a directory name (letters, digits, _ . - only)`);
  }
  const runDir = path.resolve(options.root, options.runId);
  const dir = path.join(runDir, 'workspace');
  const artifactsDir = path.join(runDir, 'artifacts');
  await mkdir(dir, { recursive: true });
  await mkdir(artifactsDir, { recursive: true });
  if (options.sourceDir) {
    const source = path.resolve(options.sourceDir);
    const info = await stat(source).catch(() => null);
    if (!info?.isDirectory()) throw new Error(`source directory ${source} does not exist or is not a directory`);
    // Copying a tree into itself would recurse: never copy the folder that holds the workspaces.
    const runsInSource = dir.startsWith(source + path.sep) ? path.relative(source, path.resolve(options.root)).split(path.sep)[0]! : null;
    const gitFiles = await listGitVisibleFiles(source);
    if (gitFiles) {
      const files = gitFiles.filter((file) => runsInSource === null || file.split('/')[0] !== runsInSource);
      await copyRelativePathsInto(source, await existingPaths(source, files), dir);
    } else {
      const entries = (await readdir(source)).filter((name) => name !== '.git' && name !== runsInSource);
      await copyRelativePathsInto(source, entries, dir);
    }
  }
  return {
    dir,
    artifactsDir,
    remove: () => rm(runDir, { recursive: true, force: true, maxRetries: 3 }),
  };
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
      execFile(
        'git',
        ['-C', source, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        { maxBuffer: 256 * 1024 * 1024 },
        (listError, stdout) => resolve(listError ? null : stdout.split('\0').filter(Boolean)),
      );
    });
  });
}

/** Drops files deleted in the work tree but still in git's index. */
async function existingPaths(source: string, files: string[]): Promise<string[]> {
  const present = await Promise.all(files.map((file) => lstat(path.join(source, file)).then(() => true, () => false)));
  return files.filter((_, index) => present[index]);
}
