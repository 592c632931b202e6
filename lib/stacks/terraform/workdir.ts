/**
 * What BuildIt adds to a configuration's directory before terraform runs there: a backend override that
 * points the state at the stack's HTTP backend (whatever backend the configuration names), and a private
 * CLI config with a plugin cache. The credential goes in the environment, never in a file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const BACKEND_OVERRIDE_FILE = 'buildit_backend_override.tf';
const CLI_CONFIG_FILE = '.buildit.terraformrc';

export interface BackendSettings {
  /** The stack's state URL: `<base>/api/v1/stacks/<id>/state`. */
  stateUrl: string;
  username: string;
  password: string;
}

const hclString = (value: string) => JSON.stringify(value);

export function backendOverride(stateUrl: string): string {
  // POST to .../lock and .../unlock: the routes Next serves (LOCK/UNLOCK need the web server's rewrite).
  return `# Written by BuildIt: the state of this stack lives in BuildIt's HTTP backend.
terraform {
  backend "http" {
    address        = ${hclString(stateUrl)}
    lock_address   = ${hclString(`${stateUrl}/lock`)}
    unlock_address = ${hclString(`${stateUrl}/unlock`)}
    lock_method    = "POST"
    unlock_method  = "POST"
  }
}
`;
}

/** Writes the override and the CLI config into `dir`; returns the environment terraform runs with. */
export async function prepareWorkdir(dir: string, backend: BackendSettings, pluginCacheDir: string): Promise<Record<string, string>> {
  await mkdir(pluginCacheDir, { recursive: true });
  await writeFile(path.join(dir, BACKEND_OVERRIDE_FILE), backendOverride(backend.stateUrl));
  const cliConfig = path.join(dir, CLI_CONFIG_FILE);
  await writeFile(cliConfig, `plugin_cache_dir = ${hclString(pluginCacheDir)}\n`);
  return {
    TF_CLI_CONFIG_FILE: cliConfig,
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    TF_HTTP_USERNAME: backend.username,
    TF_HTTP_PASSWORD: backend.password,
  };
}
