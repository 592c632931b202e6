/**
 * Fast tree copies. GNU `cp -a --reflink=auto` copies in native code (and clones blocks on CoW file
 * systems); Node's `fs.cp` is the fallback where that `cp` is missing.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';

let nativeCp: boolean | undefined;

function run(file: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024, cwd }, (error, _stdout, stderr) => {
      if (error) {
        const message = String(stderr).trim() || error.message;
        reject(Object.assign(new Error(message), { code: (error as NodeJS.ErrnoException).code }));
      } else resolve();
    });
  });
}

/** Copies `entries` (absolute paths) INTO directory `destDir`, preserving modes, times and symlinks. */
export async function copyEntriesInto(entries: string[], destDir: string): Promise<void> {
  if (entries.length === 0) return;
  if (nativeCp !== false) {
    try {
      // Batches keep the argument list far below ARG_MAX.
      for (let i = 0; i < entries.length; i += 500) {
        await run('cp', ['-a', '--reflink=auto', '-t', destDir, '--', ...entries.slice(i, i + 500)]);
      }
      nativeCp = true;
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      nativeCp = false;
    }
  }
  for (const entry of entries) {
    await cp(entry, path.join(destDir, path.basename(entry)), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, force: true });
  }
}

/** Copies files given relative to `srcDir` into `destDir`, keeping their relative paths. */
export async function copyRelativePathsInto(srcDir: string, relativePaths: string[], destDir: string): Promise<void> {
  if (relativePaths.length === 0) return;
  if (nativeCp !== false) {
    try {
      for (let i = 0; i < relativePaths.length; i += 500) {
        // --parents recreates each path's folders under destDir; cwd makes the paths relative to srcDir.
        await run('cp', ['-a', '--reflink=auto', '--parents', '-t', destDir, '--', ...relativePaths.slice(i, i + 500)], srcDir);
      }
      nativeCp = true;
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      nativeCp = false;
    }
  }
  for (const relativePath of relativePaths) {
    const target = path.join(destDir, relativePath);
    await mkdir(path.dirname(target), { recursive: true });
    await cp(path.join(srcDir, relativePath), target, { preserveTimestamps: true, verbatimSymlinks: true, force: true });
  }
}

/** Copies the CONTENTS of `srcDir` into `destDir` (which must exist), overwriting files. */
export async function copyDirContents(srcDir: string, destDir: string): Promise<void> {
  if (nativeCp !== false) {
    try {
      await run('cp', ['-a', '--reflink=auto', '-T', '--', srcDir, destDir]);
      nativeCp = true;
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      nativeCp = false;
    }
  }
  await cp(srcDir, destDir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, force: true });
}
