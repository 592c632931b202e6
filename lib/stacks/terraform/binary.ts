/**
 * Which terraform runs a stack. A worker offers a default binary (BUILDIT_TERRAFORM_BIN, else `terraform` on
 * PATH; OpenTofu's `tofu` works the same way) and named others (BUILDIT_TERRAFORM_BINS, e.g.
 * `tofu=/usr/local/bin/tofu,terraform-1.9=/opt/terraform-1.9/terraform`); a stack names one of them
 * (`terraformBinary`) or takes the default. Nothing is downloaded: the operator installs what stacks may use.
 */
import type { Env } from '../../config/parse';

export const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface TerraformBinaries {
  /** The binary of a stack that names none. */
  default: string;
  /** The binaries a stack may name, by name. */
  named: ReadonlyMap<string, string>;
}

export function terraformBinary(env: Env = process.env): string {
  const configured = env.BUILDIT_TERRAFORM_BIN?.trim();
  return configured ? configured : 'terraform';
}

/** The worker's binaries; a malformed BUILDIT_TERRAFORM_BINS throws (the worker stops before it claims a run). */
export function terraformBinaries(env: Env = process.env): TerraformBinaries {
  const named = new Map<string, string>();
  for (const item of (env.BUILDIT_TERRAFORM_BINS ?? '').split(',')) {
    if (item.trim() === '') continue;
    const equals = item.indexOf('=');
    const name = item.slice(0, Math.max(0, equals)).trim();
    const binary = item.slice(equals + 1).trim();
    if (equals < 0 || !BINARY_NAME.test(name) || binary === '') {
      throw new Error(`BUILDIT_TERRAFORM_BINS: "${item.trim()}" is not NAME=PATH (e.g. tofu=/usr/local/bin/tofu; a name is letters, digits, ".", "_", "-")`);
    }
    if (named.has(name)) throw new Error(`BUILDIT_TERRAFORM_BINS names "${name}" twice`);
    named.set(name, binary);
  }
  return { default: terraformBinary(env), named };
}

export class UnknownBinaryError extends Error {
  override name = 'UnknownBinaryError';
}

/** The binary for a stack's setting (null: the default); a name this worker does not have throws, saying which it has. */
export function binaryFor(binaries: TerraformBinaries, name: string | null): string {
  if (name === null) return binaries.default;
  const binary = binaries.named.get(name);
  if (binary !== undefined) return binary;
  const offered = binaries.named.size === 0 ? 'none (only its default)' : [...binaries.named.keys()].map((known) => `"${known}"`).join(', ');
  throw new UnknownBinaryError(
    `the stack asks for the terraform binary "${name}", which this worker does not have; its named binaries: ${offered}. ` +
      "Choose one of them in the stack's settings (or none for the default), or add it to BUILDIT_TERRAFORM_BINS on the worker",
  );
}
