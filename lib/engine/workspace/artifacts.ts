/**
 * Artifacts: files a stage produced that later stages (or people) need.
 *
 * After a stage succeeds, `collectArtifacts` copies the workspace files matching its globs into
 * ARTIFACTS_DIR/ENCODED_STAGE_ID/ (same relative paths). Before a stage starts, `restoreArtifacts`
 * copies the artifacts of the stages it needs back into the workspace, in the order given (a later
 * stage's file wins).
 *
 * Globs are picomatch globs relative to the workspace (`dist/**`, `**\/*.tgz`, `coverage/lcov.info`);
 * a pattern without glob characters that names a directory means everything under it. Dot files
 * match. Only regular files are collected (a symlink to a file is copied as that file's content;
 * symlinks to directories are not followed, so a link loop cannot hang collection). Collection is
 * atomic per stage: files go to a temporary directory renamed into place, so a retried stage
 * replaces its earlier attempt's artifacts and a reader never sees half a set.
 */
import { copyFile, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { randomBytes } from 'node:crypto';
import { copyDirContents } from './copy';

export interface ArtifactCount {
  files: number;
  bytes: number;
}

/** Stage ids (`test[node=18]`) become one safe directory name each. */
export function stageArtifactDirName(stageId: string): string {
  return encodeURIComponent(stageId).replace(/\./g, '%2E').replace(/\*/g, '%2A');
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

/** Walks `dir` (relative to `root`) yielding regular files (and symlinks to files) as posix relative paths. */
async function* walkFiles(root: string, relativeDir: string): AsyncGenerator<string> {
  const entries = await readdir(path.join(root, relativeDir), { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (relative === '.git') continue;
      yield* walkFiles(root, relative);
    } else if (entry.isFile()) {
      yield relative;
    } else if (entry.isSymbolicLink()) {
      const target = await stat(path.join(root, relative)).catch(() => null);
      if (target?.isFile()) yield relative;
    }
  }
}

export async function collectArtifacts(options: { workspace: string; patterns: string[]; artifactsDir: string; stageId: string }): Promise<ArtifactCount> {
  const workspace = path.resolve(options.workspace);
  const matchers: Array<(p: string) => boolean> = [];
  // Walk only the static prefix of each pattern (`dist/` of `dist/**/*.js`), not the whole workspace.
  const bases = new Set<string>();
  for (const raw of options.patterns) {
    const pattern = raw.replace(/^\.\//, '').replace(/\/+$/, '');
    if (!pattern || pattern.startsWith('/') || pattern.split('/').includes('..')) {
      throw new Error(`artifact pattern ${JSON.stringify(raw)} of stage ${options.stageId} must be relative to the workspace and stay inside it`);
    }
    const scan = picomatch.scan(pattern);
    if (!scan.isGlob) {
      const info = await lstat(path.join(workspace, pattern)).catch(() => null);
      if (info?.isDirectory()) {
        matchers.push(picomatch(`${pattern}/**`, { dot: true }));
        bases.add(pattern);
        continue;
      }
      matchers.push((p) => p === pattern);
      bases.add(path.posix.dirname(pattern) === '.' ? '' : path.posix.dirname(pattern));
      continue;
    }
    matchers.push(picomatch(pattern, { dot: true }));
    bases.add(scan.base);
  }
  // Drop bases nested in other bases so nothing is walked twice.
  const sorted = [...bases].sort((a, b) => a.length - b.length);
  const roots = sorted.filter((base, i) => !sorted.slice(0, i).some((outer) => outer === '' || base === outer || base.startsWith(`${outer}/`)));

  const stageDir = path.join(path.resolve(options.artifactsDir), stageArtifactDirName(options.stageId));
  const tempDir = `${stageDir}.tmp-${randomBytes(4).toString('hex')}`;
  await mkdir(tempDir, { recursive: true });
  let files = 0;
  let bytes = 0;
  try {
    for (const base of roots) {
      const info = await lstat(path.join(workspace, base)).catch(() => null);
      if (!info) continue;
      const candidates = info.isDirectory()
        ? walkFiles(workspace, base)
        : (async function* () {
            yield base;
          })();
      for await (const relative of candidates) {
        if (!matchers.some((match) => match(relative))) continue;
        const target = path.join(tempDir, ...relative.split('/'));
        await mkdir(path.dirname(target), { recursive: true });
        await copyFile(path.join(workspace, ...relative.split('/')), target);
        files++;
        bytes += (await stat(target)).size;
      }
    }
    await rm(stageDir, { recursive: true, force: true });
    await rename(tempDir, stageDir);
  } catch (error) {
    await rm(tempDir, { recursive: true, force: true });
    throw error;
  }
  return { files, bytes };
}

export async function restoreArtifacts(options: { workspace: string; artifactsDir: string; stageIds: string[] }): Promise<ArtifactCount> {
  let files = 0;
  let bytes = 0;
  for (const stageId of options.stageIds) {
    const stageDir = path.join(path.resolve(options.artifactsDir), stageArtifactDirName(stageId));
    const info = await lstat(stageDir).catch(() => null);
    if (!info?.isDirectory()) continue; // the stage declared no artifacts, or matched nothing
    for await (const relative of walkFiles(stageDir, '')) {
      files++;
      bytes += (await stat(path.join(stageDir, relative))).size;
    }
    await copyDirContents(stageDir, path.resolve(options.workspace));
  }
  return { files, bytes };
}

/** Lists the artifacts of one stage (posix paths relative to the workspace), e.g. for the API. */
export async function listArtifacts(artifactsDir: string, stageId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const relative of walkFiles(path.join(path.resolve(artifactsDir), stageArtifactDirName(stageId)), '')) out.push(toPosix(relative));
  return out.sort();
}
