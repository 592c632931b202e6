// The settings of the `buildit` command read from the environment (docs/cli-run.md, docs/cli-remote.md),
// beside the server's in env.ts so that every variable is read in lib/config.
import os from 'node:os';
import path from 'node:path';
import { stringFromEnv, type Env } from './parse';

/** BUILDIT_CONFIG, else `$XDG_CONFIG_HOME/buildit/config.json` (an absolute XDG_CONFIG_HOME only), else ~/.config. */
export function cliConfigPathFromEnv(env: Env = process.env): string {
  const explicit = stringFromEnv('BUILDIT_CONFIG', env);
  if (explicit) return path.resolve(explicit);
  const xdg = stringFromEnv('XDG_CONFIG_HOME', env);
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config'), 'buildit', 'config.json');
}

/** BUILDIT_URL and BUILDIT_TOKEN: the server and token of the remote commands, over the config file's. */
export function remoteServerFromEnv(env: Env = process.env): { url?: string; token?: string } {
  const url = stringFromEnv('BUILDIT_URL', env);
  const token = stringFromEnv('BUILDIT_TOKEN', env);
  return { ...(url ? { url } : {}), ...(token ? { token } : {}) };
}

/** BUILDIT_DEFAULT_IMAGE: image of container stages that name none (`buildit run`). */
export const defaultImageFromEnv = (env: Env = process.env): string | undefined => stringFromEnv('BUILDIT_DEFAULT_IMAGE', env);

/** BUILDIT_CACHE_DIR, default `~/.cache/buildit/caches`: where `buildit run` keeps stage caches. */
export const cliCacheDirFromEnv = (env: Env = process.env): string =>
  path.resolve(stringFromEnv('BUILDIT_CACHE_DIR', env) ?? path.join(os.homedir(), '.cache', 'buildit', 'caches'));
