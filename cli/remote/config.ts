/**
 * Where the remote commands find the server and the token:
 *   --url / --token flags (login only) > BUILDIT_URL / BUILDIT_TOKEN > the config file written by `buildit login`.
 * The file is `$BUILDIT_CONFIG`, else `$XDG_CONFIG_HOME/buildit/config.json`, else `~/.config/buildit/config.json`,
 * written with mode 0600 (it holds a token).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors';
import { cliConfigPathFromEnv, remoteServerFromEnv } from '../../lib/config/cli';

export interface RemoteConfig {
  url: string;
  token: string;
  /** Default tenant (id) for commands that take --tenant. */
  tenant?: string;
}

type Env = Record<string, string | undefined>;

export function configPath(env: Env = process.env): string {
  return cliConfigPathFromEnv(env);
}

/** The stored config, or null when there is none. A file that cannot be read or parsed is a usage error. */
export function readConfigFile(env: Env = process.env): Partial<RemoteConfig> | null {
  const file = configPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    const { url, token, tenant } = parsed as Record<string, unknown>;
    return {
      ...(typeof url === 'string' ? { url } : {}),
      ...(typeof token === 'string' ? { token } : {}),
      ...(typeof tenant === 'string' ? { tenant } : {}),
    };
  } catch (error) {
    throw new UsageError(`${file} is not a valid config file (${(error as Error).message}): run \`buildit login\` again`);
  }
}

/** Writes the config atomically, readable by its owner only. */
export function writeConfigFile(config: RemoteConfig, env: Env = process.env): string {
  const file = configPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFileSync is masked by the umask: set it explicitly.
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
  return file;
}

/** Normalizes a server URL (`http(s)://host[:port][/prefix]`, no trailing slash); a usage error otherwise. */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`invalid server URL "${raw}": expected http(s)://host[:port]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`invalid server URL "${raw}": use http:// or https://`);
  if (url.search || url.hash) throw new UsageError(`invalid server URL "${raw}": no query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

/** URL and token for a remote command; a usage error (exit 2) saying how to log in when one is missing. */
export function resolveConnection(env: Env = process.env): RemoteConfig {
  const stored = readConfigFile(env) ?? {};
  const fromEnv = remoteServerFromEnv(env);
  const url = fromEnv.url ?? stored.url;
  const token = fromEnv.token ?? stored.token;
  if (!url || !token) {
    throw new UsageError(
      `not logged in: run \`buildit login --url URL --token TOKEN\` (or set BUILDIT_URL and BUILDIT_TOKEN); config file: ${configPath(env)}`,
    );
  }
  return { url: normalizeUrl(url), token, ...(stored.tenant ? { tenant: stored.tenant } : {}) };
}
