/**
 * `buildit login --url URL --token TOKEN [--tenant T]`: checks the token against the server (it must list
 * the tenants it sees) and stores url + token in the config file, mode 0600 (see cli/remote/config.ts).
 * BUILDIT_URL / BUILDIT_TOKEN fill in a missing flag. `--token-stdin` reads the token from stdin, so it
 * stays out of the shell history.
 */
import { UsageError } from '../../errors';
import { ApiClient } from '../../remote/client';
import { printJson, readStdin, type JsonOption } from '../../remote/command';
import { configPath, normalizeUrl, writeConfigFile } from '../../remote/config';
import { ApiError } from '../../remote/errors';
import { remoteServerFromEnv } from '../../../lib/config/cli';

export interface LoginOptions extends JsonOption {
  url?: string;
  token?: string;
  tokenStdin?: boolean;
  tenant?: string;
}

export async function login(options: LoginOptions): Promise<void> {
  const fromEnv = remoteServerFromEnv();
  const rawUrl = options.url ?? fromEnv.url;
  const token = options.tokenStdin ? (await readStdin()).toString('utf8').trim() : (options.token ?? fromEnv.token);
  if (!rawUrl) throw new UsageError('login needs the server URL: --url URL (or BUILDIT_URL)');
  if (!token) throw new UsageError('login needs an API token: --token TOKEN, --token-stdin (or BUILDIT_TOKEN)');
  const url = normalizeUrl(rawUrl);
  const api = new ApiClient({ url, token });
  // Any authenticated read proves the token; listing tenants also shows what it can reach.
  const tenants = await api.listTenants();
  let tenant: string | undefined;
  if (options.tenant !== undefined) {
    const found = tenants.find((t) => t.id === options.tenant) ?? tenants.find((t) => t.slug === options.tenant);
    if (!found) throw new ApiError('not_found', `tenant "${options.tenant}" not found (or this token cannot see it)`, 404);
    tenant = found.id;
  }
  const file = writeConfigFile({ url, token, ...(tenant ? { tenant } : {}) });
  if (options.json) {
    printJson({ url, config: file, tenants: tenants.map((t) => ({ id: t.id, slug: t.slug, name: t.name })), ...(tenant ? { tenant } : {}) });
  } else {
    process.stdout.write(
      `Logged in to ${url}; ${tenants.length} tenant${tenants.length === 1 ? '' : 's'} visible (${tenants.map((t) => t.slug).join(', ') || 'none'}).\n`,
    );
    process.stderr.write(`Saved to ${configPath()} (mode 0600).\n`);
  }
}
