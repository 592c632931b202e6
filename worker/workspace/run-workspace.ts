/**
 * The run workspace: one directory per run, shared by all its stages (the local executor's cwd, the
 * docker executor's /workspace), and the run's artifact store beside it:
 *
 *   ROOT/RUN_ID/workspace/   a copy of the source (everything except the top-level `.git`)
 *   ROOT/RUN_ID/artifacts/   STAGE/...   (see artifacts.ts)
 *
 * `.git` is skipped because stages get the commit as a tree, not a repository (and it is often the
 * biggest part); everything else, node_modules included, is copied so a local run sees exactly what
 * the developer has. The copy is `cp -a --reflink=auto` (native, block clones on CoW file systems).
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { copyEntriesInto } from './copy';

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
    if (dir.startsWith(source + path.sep)) {
      // Copying a tree into itself would recurse; the workspace root must be outside the source.
      const runsInSource = path.relative(source, path.resolve(options.root)).split(path.sep)[0]!;
      const entries = (await readdir(source)).filter((name) => name !== '.git' && name !== runsInSource);
      await copyEntriesInto(entries.map((name) => path.join(source, name)), dir);
    } else {
      const entries = (await readdir(source)).filter((name) => name !== '.git');
      await copyEntriesInto(entries.map((name) => path.join(source, name)), dir);
    }
  }
  return {
    dir,
    artifactsDir,
    remove: () => rm(runDir, { recursive: true, force: true, maxRetries: 3 }),
  };
}
