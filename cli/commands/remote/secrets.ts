/**
 * `buildit secrets set NAME [--from-file F]`, `buildit secrets list`, `buildit secrets delete NAME`, each with
 * `--tenant T`. A value is read from stdin or a file, never from the command line (shell history, `ps`), and
 * no command prints one: the server never returns it.
 */
import { readFileSync } from 'node:fs';
import { MAX_SECRET_BYTES } from '../../../lib/api/schemas/secrets';
import { UsageError } from '../../errors';
import { printJson, printTable, readStdin, remote, resolveTenant } from '../../remote/command';
import type { TenantOption } from './pipelines';

export interface SetOptions extends TenantOption {
  fromFile?: string;
}

/** The value as the API takes it: UTF-8 text, at most MAX_SECRET_BYTES (checked here so a large file is not sent). */
function decodeValue(bytes: Buffer, from: string): string {
  if (bytes.byteLength > MAX_SECRET_BYTES)
    throw new UsageError(`${from} holds ${bytes.byteLength} bytes: a secret value is at most ${MAX_SECRET_BYTES} bytes (64 KiB)`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${from} is not UTF-8 text: store it base64-encoded (\`base64 -w0 FILE | buildit secrets set NAME\`) and decode it in the stage`);
  }
}

async function readValue(name: string, options: SetOptions): Promise<string> {
  const from = options.fromFile ?? 'stdin';
  let value: string;
  if (options.fromFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(options.fromFile);
    } catch (error) {
      throw new UsageError(
        `cannot read ${options.fromFile}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      );
    }
    // Verbatim: a key file's final newline is part of it (OpenSSH refuses a private key without one).
    value = decodeValue(bytes, from);
  } else if (process.stdin.isTTY) {
    // Typed at a terminal, the value would be echoed on screen: take it from a pipe or a file.
    throw new UsageError(
      `give the value of ${name} on stdin (\`printf %s "$VALUE" | buildit secrets set ${name}\`, \`buildit secrets set ${name} < FILE\`) or with --from-file FILE`,
    );
  } else {
    // `echo "$VALUE" | ...` adds a newline that is not part of the value.
    value = decodeValue(await readStdin(), from).replace(/\r?\n$/, '');
  }
  if (value === '') throw new UsageError(`${from} is empty: a secret needs a value`);
  return value;
}

export async function set(name: string, options: SetOptions): Promise<void> {
  const value = await readValue(name, options);
  const context = remote();
  const tenant = await resolveTenant(context, options.tenant);
  const secret = await context.api.setSecret(tenant.id, name, value);
  if (options.json) printJson(secret);
  else process.stdout.write(`Set secret ${secret.name} in tenant ${tenant.slug}.\n`);
}

export async function list(options: TenantOption): Promise<void> {
  const context = remote();
  const tenant = await resolveTenant(context, options.tenant);
  const secrets = (await context.api.listSecrets(tenant.id)).sort((a, b) => (a.name < b.name ? -1 : 1));
  if (options.json) {
    printJson(secrets);
    return;
  }
  if (secrets.length === 0) {
    process.stderr.write(`no secrets in tenant ${tenant.slug}\n`);
    return;
  }
  printTable(
    ['NAME', 'UPDATED', 'UPDATED BY', 'CREATED', 'CREATED BY'],
    secrets.map((s) => [s.name, s.updatedAt, s.updatedBy?.email ?? '-', s.createdAt, s.createdBy?.email ?? '-']),
  );
}

export async function remove(name: string, options: TenantOption): Promise<void> {
  const context = remote();
  const tenant = await resolveTenant(context, options.tenant);
  await context.api.deleteSecret(tenant.id, name);
  if (options.json) printJson({ tenant: tenant.id, name, deleted: true });
  else process.stdout.write(`Deleted secret ${name} from tenant ${tenant.slug}.\n`);
}
