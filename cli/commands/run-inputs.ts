/**
 * Inputs of `buildit run` that come from the user's machine: `--var`/`--secret` pairs (`buildit trigger`
 * parses its `--var` here too), secret files, and the trigger read from git. Pure parsing where possible,
 * so it is tested without a process.
 */
import { execFileSync } from 'node:child_process';
import { UsageError } from '../errors';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `k=v` pairs (the value may contain `=`); a repeated key keeps the last value. */
export function parsePairs(pairs: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} "${pair}" must look like NAME=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * `--secret NAME=VALUE`, or `--secret NAME` to take the value from the environment variable NAME
 * (keeps the value out of the shell history and `ps`).
 */
export function parseSecretArgs(args: string[], env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!NAME.test(name)) throw new UsageError(`--secret "${eq === -1 ? arg : `${name}=...`}": the name must be letters, digits and _`);
    if (eq !== -1) out[name] = arg.slice(eq + 1);
    else if (env[name] !== undefined) out[name] = env[name]!;
    else throw new UsageError(`--secret ${name}: no value given and no environment variable ${name} is set`);
  }
  return out;
}

/**
 * A secret file is either a JSON object of strings, or lines of:
 *   NAME=VALUE            the rest of the line, verbatim (no quote processing)
 *   NAME<<EOF ... EOF     a multi-line value (the lines between, without the final newline)
 *   # comment, blank lines
 */
export function parseSecretFile(text: string, file: string): Record<string, string> {
  if (text.trimStart().startsWith('{')) return parseJsonSecrets(text, file);
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const heredoc = /^([A-Za-z_][A-Za-z0-9_]*)<<(\S+)$/.exec(line.trim());
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const end = lines.findIndex((candidate, j) => j > i && candidate === delimiter);
      if (end === -1) throw new UsageError(`${file}:${i + 1}: ${name}<<${delimiter} is never closed by a line "${delimiter}"`);
      out[name!] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    const name = eq === -1 ? '' : line.slice(0, eq).trim();
    if (!NAME.test(name)) throw new UsageError(`${file}:${i + 1}: expected NAME=VALUE or NAME<<EOF`);
    out[name] = line.slice(eq + 1);
  }
  return out;
}

function parseJsonSecrets(text: string, file: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: invalid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file}: expected a JSON object of "NAME": "value"`);
  const out: Record<string, string> = {};
  for (const [name, secret] of Object.entries(value)) {
    if (!NAME.test(name) || typeof secret !== 'string') throw new UsageError(`${file}: "${name}" must be a name with a string value`);
    out[name] = secret;
  }
  return out;
}

export interface GitInfo {
  branch?: string;
  /** A tag pointing at HEAD (the first in version order), for `--event tag`. */
  tag?: string;
  sha?: string;
  message?: string;
  author?: string;
}

/** What `git ARGS` prints in `cwd` (untrimmed), or undefined when it fails (not a checkout, no git, a bad ref). */
export function gitOutput(cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return undefined;
  }
}

/** Branch, commit, message and author of HEAD in `cwd`; empty when it is not a git checkout (or git is missing). */
export function readGit(cwd: string): GitInfo {
  const git = (...args: string[]): string | undefined => gitOutput(cwd, args)?.trim() || undefined;
  const sha = git('rev-parse', 'HEAD');
  if (!sha) return {};
  const branch = git('symbolic-ref', '--short', '-q', 'HEAD');
  const tag = git('tag', '--points-at', 'HEAD', '--sort=version:refname')?.split('\n')[0];
  const [message, author] = (git('log', '-1', '--format=%s%n%an') ?? '').split('\n');
  return { sha, ...(branch ? { branch } : {}), ...(tag ? { tag } : {}), ...(message ? { message } : {}), ...(author ? { author } : {}) };
}
