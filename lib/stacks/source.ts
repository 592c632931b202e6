/**
 * The configuration a stack run works on, put into a fresh directory: the stack's repository at its ref
 * (through the mirror cache of lib/source, as pipeline checkouts do), or the archive the CLI uploaded.
 * Returns the directory terraform runs in (the stack's `path` inside the checkout).
 */
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PrismaClient } from '../generated/prisma/client';
import { displayUrl, GitError, resolveRemoteRef, type GitCredentials } from '../source/git';
import { checkoutFromMirror, MirrorStore } from '../source/mirror';
import { pipelineCredentials } from '../source/trigger';

export interface StackSource {
  tenantId: string;
  repository: string | null;
  ref: string;
  path: string;
  credentialsSecret: string | null;
}

export interface MaterializeOptions {
  prisma: PrismaClient;
  dataDir: string;
  /** An empty directory of this run. */
  dir: string;
  stack: StackSource;
  /** The commit to check out (an apply checks out what its plan did); null: resolve the ref now. */
  commitSha: string | null;
  archive: Uint8Array | null;
  onLine: (line: string) => void;
  signal: AbortSignal;
}

export class SourceMissingError extends Error {
  override name = 'SourceMissingError';
}

function extractArchive(archive: Uint8Array, dir: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // GNU tar drops leading `/` and refuses `..` members; no owner or mode bits of the uploader are kept.
    const tar = spawn('tar', ['-xzf', '-', '-C', dir, '--no-same-owner', '--no-same-permissions'], { stdio: ['pipe', 'ignore', 'pipe'], signal });
    let stderr = '';
    tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    tar.once('error', reject);
    tar.once('exit', (code) =>
      code === 0 ? resolve() : reject(new SourceMissingError(`the uploaded configuration is not a readable .tar.gz: ${stderr.trim()}`)),
    );
    tar.stdin.end(Buffer.from(archive));
  });
}

/** The branch's head; a missing branch is named as such (the ref is a branch name, not `refs/heads/...`). */
async function resolveBranch(url: string, branch: string, credentials: GitCredentials, signal: AbortSignal): Promise<string> {
  try {
    return await resolveRemoteRef(url, `refs/heads/${branch}`, credentials, signal);
  } catch (error) {
    if (error instanceof GitError && error.hint?.startsWith('unknown ref'))
      throw new SourceMissingError(`the branch "${branch}" does not exist in ${displayUrl(url)}: check the stack's ref (a branch name)`);
    throw error;
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then(
    (found) => found.isDirectory(),
    () => false,
  );
}

/** Fills `dir`; returns the working directory and the commit checked out (null for an upload). */
export async function materializeSource(options: MaterializeOptions): Promise<{ workdir: string; commitSha: string | null }> {
  const { stack, dir } = options;
  await mkdir(dir, { recursive: true });
  if (options.archive !== null) {
    options.onLine('extracting the uploaded configuration');
    await extractArchive(options.archive, dir, options.signal);
    return { workdir: dir, commitSha: null };
  }
  if (stack.repository === null)
    throw new SourceMissingError('the stack has no repository and the run no uploaded configuration: upload one (buildit stacks plan STACK DIR)');
  const credentials = await pipelineCredentials(options.prisma, stack, options.dataDir);
  try {
    const onLine = (_stream: string, line: string) => options.onLine(line);
    const sha = options.commitSha ?? (await resolveBranch(stack.repository, stack.ref, credentials, options.signal));
    const mirror = await MirrorStore.inDataDir(options.dataDir).ensureCommit(stack.repository, sha, { credentials, onLine, signal: options.signal });
    await checkoutFromMirror({
      workspace: dir,
      url: stack.repository,
      mirrorDir: mirror.dir,
      sha: mirror.sha,
      depth: 1,
      submodules: false,
      credentials,
      onLine,
      signal: options.signal,
    });
    const workdir = path.resolve(dir, stack.path);
    if (!workdir.startsWith(path.resolve(dir))) throw new SourceMissingError(`the stack's path "${stack.path}" leaves the repository`);
    if (!(await isDirectory(workdir))) {
      throw new SourceMissingError(
        `the directory "${stack.path}" is not in commit ${mirror.sha.slice(0, 12)} of ${displayUrl(stack.repository)}: check the stack's path (or the commit)`,
      );
    }
    return { workdir, commitSha: mirror.sha };
  } finally {
    await credentials.cleanup();
  }
}
