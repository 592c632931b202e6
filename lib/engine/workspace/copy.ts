/**
 * Fast tree copies. GNU `cp -a --reflink=auto` copies in native code (and clones blocks on CoW file
 * systems); Node's `fs.cp` is the fallback where that `cp` is missing.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';

const CP_FLAGS = ['-a', '--reflink=auto'];
const FS_CP_OPTIONS = { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, force: true } as const;
/** Paths per `cp` call: keeps the argument list far below ARG_MAX. */
const BATCH = 500;

let nativeCpMissing = false;

function runCp(args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('cp', args, { maxBuffer: 16 * 1024 * 1024, cwd }, (error, _stdout, stderr) => {
      if (error) {
        const message = String(stderr).trim() || error.message;
        reject(Object.assign(new Error(message), { code: (error as NodeJS.ErrnoException).code }));
      } else resolve();
    });
  });
}

/** Runs the native copy, or the Node fallback once `cp` turned out to be missing (ENOENT). */
async function withNativeCp(native: () => Promise<void>, fallback: () => Promise<void>): Promise<void> {
  if (!nativeCpMissing) {
    try {
      return await native();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      nativeCpMissing = true;
    }
  }
  await fallback();
}

/** Copies files or folders given relative to `srcDir` into `destDir`, keeping their relative paths, modes, times and symlinks. */
export async function copyRelativePathsInto(srcDir: string, relativePaths: string[], destDir: string): Promise<void> {
  if (relativePaths.length === 0) return;
  await withNativeCp(
    async () => {
      for (let i = 0; i < relativePaths.length; i += BATCH) {
        // --parents recreates each path's folders under destDir; cwd makes the paths relative to srcDir.
        await runCp([...CP_FLAGS, '--parents', '-t', destDir, '--', ...relativePaths.slice(i, i + BATCH)], srcDir);
      }
    },
    async () => {
      for (const relativePath of relativePaths) {
        const target = path.join(destDir, relativePath);
        await mkdir(path.dirname(target), { recursive: true });
        await cp(path.join(srcDir, relativePath), target, FS_CP_OPTIONS);
      }
    },
  );
}

/** Copies the CONTENTS of `srcDir` into `destDir` (which must exist), overwriting files. */
export async function copyDirContents(srcDir: string, destDir: string): Promise<void> {
  await withNativeCp(
    () => runCp([...CP_FLAGS, '-T', '--', srcDir, destDir]),
    () => cp(srcDir, destDir, FS_CP_OPTIONS),
  );
}
