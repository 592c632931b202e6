/**
 * Cache volumes on the local executor, which has no bind mounts: a volume's path must be relative and
 * is resolved inside the workspace. A writable volume becomes a SYMLINK workspace/PATH -> the volume's
 * directory (zero copy; what the stage writes lands in the volume, which is what caches need). A
 * `readOnly` one is COPIED into the workspace (writes cannot reach the source). Both are removed again
 * after the attempt. A path that already exists in the workspace as a real file or directory is kept
 * and the volume is skipped, with a `buildit: ...` notice (BuildIt never deletes the user's files, e.g.
 * node_modules in an in-place run); an existing symlink (left by a crashed attempt) is replaced.
 */
import { cp, lstat, mkdir, readlink, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ExecutorError, type StageJob } from './types';

export interface PlacedMount {
  target: string;
  kind: 'symlink' | 'copy';
}

/** Places the job's volumes in `workspace`; `notices` receives the lines to show in the stage's log. */
export async function placeMounts(workspace: string, job: StageJob, volumeDir: (volume: string) => string, notices: string[]): Promise<PlacedMount[]> {
  const placed: PlacedMount[] = [];
  try {
    for (const mount of job.mounts) {
      if (path.isAbsolute(mount.path)) {
        throw new ExecutorError(
          `mount ${mount.path} of stage ${job.stageId}: on the local executor a mount path must be relative to the workspace`,
          'spawn_failed',
        );
      }
      const target = path.resolve(workspace, mount.path);
      if (target === workspace || !target.startsWith(workspace + path.sep)) {
        throw new ExecutorError(`mount ${mount.path} of stage ${job.stageId} points outside the workspace`, 'spawn_failed');
      }
      const existing = await lstat(target).catch(() => null);
      if (existing?.isSymbolicLink()) {
        await unlink(target);
      } else if (existing) {
        notices.push(`buildit: ${mount.path} already exists in the workspace; it is used as is and the cache is not applied`);
        continue;
      }
      const source = volumeDir(mount.volume);
      await mkdir(path.dirname(target), { recursive: true });
      await mkdir(source, { recursive: true });
      if (mount.readOnly) {
        await cp(source, target, { recursive: true, preserveTimestamps: true });
        placed.push({ target, kind: 'copy' });
      } else {
        await symlink(source, target);
        placed.push({ target, kind: 'symlink' });
      }
    }
    return placed;
  } catch (error) {
    await removeMounts(placed);
    if (error instanceof ExecutorError) throw error;
    throw new ExecutorError(`could not prepare the mounts of stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
  }
}

export async function removeMounts(placed: PlacedMount[]): Promise<void> {
  for (const mount of placed) {
    if (mount.kind === 'symlink') {
      // Only remove it if it is still our symlink.
      if (await readlink(mount.target).catch(() => null)) await unlink(mount.target).catch(() => undefined);
    } else {
      await rm(mount.target, { recursive: true, force: true });
    }
  }
}
