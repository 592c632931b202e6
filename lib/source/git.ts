/**
 * The system `git`, run on the worker's (or the web server's) host: never through a shell, never with a
 * credential on its command line. See docs/source.md.
 *
 * Credentials (`gitCredentials`) come from a tenant secret and reach git only through the environment:
 * - a token: an `Authorization: Basic base64(x-access-token:TOKEN)` header (`user:password` when the value
 *   holds a colon) as `http.extraHeader`, given with GIT_CONFIG_COUNT / GIT_CONFIG_KEY_0 / GIT_CONFIG_VALUE_0,
 *   so it is neither in the URL, nor on the command line (the process list), nor in any `.git/config`;
 * - an SSH private key (a value starting with `-----BEGIN`): written to a 0600 file in a fresh temporary
 *   directory outside the workspace and used through GIT_SSH_COMMAND (`-i FILE -o IdentitiesOnly=yes
 *   -o StrictHostKeyChecking=accept-new`); `cleanup()` removes it.
 * `secretValues` lists what a log masker must hide (the token, the header, the key).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileRepositoriesFromEnv } from '../config/env';

/** Supported repository URLs: https://, http://, ssh://, git://, file://, scp-style `user@host:path`. */
const URL_SCHEMES = /^(https?|ssh|git|file):\/\//i;
const SCP_STYLE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)\S+$/;

/** Why `url` cannot be cloned, or null when it is a supported URL. */
export function repositoryUrlProblem(url: string): string | null {
  if (url.startsWith('-')) return 'a repository URL cannot start with "-"';
  if (/\s/.test(url)) return 'a repository URL cannot contain spaces or line breaks';
  if (URL_SCHEMES.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not a valid URL';
    }
    if (parsed.password) return 'put the credentials in a tenant secret named by `credentialsSecret`, not in the URL';
    if (parsed.protocol === 'file:' && !fileRepositoriesFromEnv()) {
      return "file:// repositories are off on this server (they read the host's files): use a git server, or an operator sets BUILDIT_FILE_REPOSITORIES=on";
    }
    return null;
  }
  if (SCP_STYLE.test(url)) return null;
  return 'use an https://, ssh://, git:// or file:// URL, or the scp-style user@host:path';
}

/** Checked again wherever git reaches a repository: a pipeline stored before a setting changed must not slip through. */
export function refuseUnsupportedUrl(url: string): void {
  const problem = repositoryUrlProblem(url);
  if (problem !== null) throw new GitError(`cannot use the repository ${displayUrl(url)}: ${problem}`, null, '');
}

/** The URL without user info (what is stored in `.git/config` and shown in logs). */
export function displayUrl(url: string): string {
  if (!URL_SCHEMES.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (!parsed.password && !parsed.username) return url;
    if (parsed.protocol === 'ssh:') {
      parsed.password = '';
      return parsed.toString();
    }
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

export interface GitCredentials {
  /** Environment variables for every git command that talks to the remote. */
  env: Record<string, string>;
  /** Values a log must never show. */
  secretValues: string[];
  /** Removes the key file (SSH); idempotent. */
  cleanup(): Promise<void>;
}

export const NO_CREDENTIALS: GitCredentials = { env: {}, secretValues: [], cleanup: () => Promise.resolve() };

export function isSshPrivateKey(value: string): boolean {
  return /^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value.trim());
}

export async function gitCredentials(value: string | undefined): Promise<GitCredentials> {
  if (value === undefined || value === '') return NO_CREDENTIALS;
  if (isSshPrivateKey(value)) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'buildit-ssh-'));
    const keyFile = path.join(dir, 'key');
    await writeFile(keyFile, value.trim() + '\n', { mode: 0o600 });
    await chmod(keyFile, 0o600);
    const quoted = `'${keyFile.replace(/'/g, `'\\''`)}'`;
    return {
      env: { GIT_SSH_COMMAND: `ssh -i ${quoted} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes` },
      secretValues: [value, ...value.split('\n').filter((line) => line.trim().length >= 16)],
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const token = value.trim();
  const basic = Buffer.from(token.includes(':') ? token : `x-access-token:${token}`).toString('base64');
  const header = `Authorization: Basic ${basic}`;
  return {
    env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: header },
    secretValues: [token, basic, header],
    cleanup: () => Promise.resolve(),
  };
}

/** A git command that failed; `message` is git's own words, `hint` what to check. */
export class GitError extends Error {
  constructor(
    message: string,
    readonly hint: string | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

/** What to check for a git failure, from its output (LC_ALL=C). */
export function hintFor(output: string): string | null {
  if (
    /Authentication failed|could not read (Username|Password)|terminal prompts disabled|Permission denied \(publickey|HTTP Basic: Access denied|\b40[13]\b|invalid credentials/i.test(
      output,
    )
  )
    return 'authentication failed: check the credentials secret named by the pipeline (credentialsSecret) and that it may read the repository';
  if (
    /Could not resolve host|Connection refused|unable to connect|Name or service not known|Network is unreachable|No route to host|Connection timed out|Temporary failure in name resolution/i.test(
      output,
    )
  )
    return 'the host is unreachable from the worker: check the repository URL and that the worker can reach it';
  if (
    /not our ref|couldn't find remote ref|unknown revision|not a valid object|did not match any|bad object|reference is not a tree|no such ref|is not in the repository|not a tree object|upload-pack: not our/i.test(
      output,
    )
  )
    return 'unknown ref: check the branch, tag or sha (the commit must exist in the repository)';
  if (/does not appear to be a git repository|Repository not found|repository .* not found|No such file or directory/i.test(output))
    return 'the repository was not found: check the repository URL (and the credentials, for a private one)';
  return null;
}

export interface RunGitOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Each output line (stdout and stderr; git writes its progress to stderr). */
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Environment of every git command: no prompt (a missing credential fails instead of hanging), C messages. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GCM_INTERACTIVE: 'never', GIT_ASKPASS: '', SSH_ASKPASS: '', LC_ALL: 'C', LANG: 'C', ...extra };
}

/** Runs `git ARGS`; resolves with stdout, rejects with a GitError carrying git's last error lines and a hint. */
export function runGit(args: string[], options: RunGitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: gitEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let stdout = '';
    let stderr = '';
    const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
    const feed = (stream: 'stdout' | 'stderr', text: string, end = false) => {
      if (!options.onLine) return;
      // Progress lines end with \r: treat them as lines too, but only the final state of each matters.
      const all = pending[stream] + text;
      const parts = all.split(/\r?\n|\r/);
      pending[stream] = end ? '' : (parts.pop() ?? '');
      for (const part of parts) if (part.length > 0) options.onLine(stream, part);
    };
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      feed('stdout', text);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
      feed('stderr', text);
    });
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : null;
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      const aborted = (error as NodeJS.ErrnoException).name === 'AbortError';
      reject(new GitError(aborted ? 'git was stopped (the run was cancelled)' : `could not run git: ${error.message}`, null, stderr));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      feed('stdout', '', true);
      feed('stderr', '', true);
      if (code === 0) return resolve(stdout);
      const lines = stderr
        .split(/\r?\n|\r/)
        .map((line) => line.trim())
        .filter((line) => line && !/^(remote: )?(Counting|Compressing|Receiving|Resolving|Enumerating|Total|Unpacking)/.test(line));
      const important = lines.filter((line) => /^(fatal|error|ERROR)[: ]/i.test(line));
      const message = (important.length > 0 ? important : lines.slice(-3)).join('; ') || `git ${args[0]} exited with ${signal ?? code}`;
      reject(new GitError(message, hintFor(stderr), stderr));
    });
  });
}

/** `git ls-remote URL REF`: the sha REF points at (a tag's peeled commit), or a GitError naming it. */
export async function resolveRemoteRef(url: string, ref: string, credentials: GitCredentials, signal?: AbortSignal): Promise<string> {
  refuseUnsupportedUrl(url);
  const out = await runGit(['ls-remote', '--', url, ref, `${ref}^{}`], { env: credentials.env, timeoutMs: 120_000, ...(signal ? { signal } : {}) });
  const rows = out
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((parts) => parts.length === 2);
  const peeled = rows.find(([, name]) => name === `${ref}^{}`);
  const exact = rows.find(([, name]) => name === ref);
  const sha = (peeled ?? exact)?.[0];
  if (!sha)
    throw new GitError(
      `${ref} does not exist in ${displayUrl(url)}`,
      'unknown ref: check the branch, tag or sha (the commit must exist in the repository)',
      '',
    );
  return sha;
}
