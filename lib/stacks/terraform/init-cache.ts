/**
 * `terraform init` once per stack instead of once per run. After an init, the directory it made (`.terraform`:
 * the backend settings, the module manifest and modules, links into the plugin cache) and the lock file it
 * chose are kept in the worker's data dir, keyed by the stack's backend, the binary and the configuration's
 * path; the stack's next run starts from a copy and skips init (a terraform process: a third of a small plan).
 *
 * That is safe because terraform checks an initialized directory against the configuration before it plans:
 * a changed backend, a new or changed module call, a provider the lock file does not cover each stop it with
 * an error that asks for `terraform init` (`asksForInit`); the caller then runs init and plans again. What
 * that check cannot see (a newer module behind an unchanged git ref, a newer provider within its constraints
 * when the configuration commits no lock file) is picked up when the copy expires, REUSE_MS after its init.
 * A configuration's own lock file always wins over the kept one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export const REUSE_MS = 60 * 60_000;

const DOT_TERRAFORM = '.terraform';
const LOCK_FILE = '.terraform.lock.hcl';

/** Terraform's and OpenTofu's words when a directory needs `init` (in `-json` diagnostics and plain errors). */
const INIT_HINT = /\b(?:terraform|tofu) init\b/;

export function asksForInit(line: string): boolean {
  return INIT_HINT.test(line);
}

const exists = (file: string) =>
  access(file, constants.F_OK).then(
    () => true,
    () => false,
  );

/** The binary as a file (found on PATH like the spawn does), so a replaced binary gets a new key; null when absent. */
async function binaryIdentity(binary: string): Promise<string | null> {
  const candidates = binary.includes('/') ? [binary] : (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      const file = await stat(candidate);
      if (file.isFile()) return `${path.resolve(candidate)}:${file.size}:${file.mtimeMs}`;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export interface InitKey {
  binary: string;
  /** BuildIt's backend override (it names the stack's state URL). */
  backendOverride: string;
  /** The configuration's directory inside the checkout. */
  configPath: string;
}

/** Where the stack's kept init lives under `root`; null when the binary cannot be found (init will say why). */
export async function initCacheEntry(root: string, key: InitKey): Promise<string | null> {
  const binary = await binaryIdentity(key.binary);
  if (binary === null) return null;
  const digest = createHash('sha256')
    .update(JSON.stringify([binary, key.backendOverride, key.configPath]))
    .digest('hex');
  return path.join(root, digest);
}

const fresh = async (entry: string) => {
  try {
    return Date.now() - (await stat(entry)).mtimeMs < REUSE_MS;
  } catch {
    return false;
  }
};

/** Copies the kept init into `workdir`; false when there is none (or it expired, or the configuration brings its own `.terraform`). */
export async function restoreInit(entry: string, workdir: string): Promise<boolean> {
  if (!(await fresh(entry)) || !(await exists(path.join(entry, DOT_TERRAFORM))) || (await exists(path.join(workdir, DOT_TERRAFORM)))) return false;
  await cp(path.join(entry, DOT_TERRAFORM), path.join(workdir, DOT_TERRAFORM), { recursive: true, verbatimSymlinks: true });
  if ((await exists(path.join(entry, LOCK_FILE))) && !(await exists(path.join(workdir, LOCK_FILE)))) {
    await cp(path.join(entry, LOCK_FILE), path.join(workdir, LOCK_FILE));
  }
  return true;
}

/** Keeps what `terraform init` just made in `workdir` (replacing the stack's previous one) and drops expired entries. */
export async function saveInit(entry: string, workdir: string): Promise<void> {
  const root = path.dirname(entry);
  const staging = `${entry}.${randomBytes(6).toString('hex')}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    if (await exists(path.join(workdir, DOT_TERRAFORM))) {
      await cp(path.join(workdir, DOT_TERRAFORM), path.join(staging, DOT_TERRAFORM), { recursive: true, verbatimSymlinks: true });
    }
    if (await exists(path.join(workdir, LOCK_FILE))) await cp(path.join(workdir, LOCK_FILE), path.join(staging, LOCK_FILE));
    await rm(entry, { recursive: true, force: true });
    await rename(staging, entry);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  for (const name of await readdir(root)) {
    const other = path.join(root, name);
    if (other !== entry && !(await fresh(other))) await rm(other, { recursive: true, force: true });
  }
}
