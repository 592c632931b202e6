/** Which terraform runs stacks: BUILDIT_TERRAFORM_BIN (OpenTofu's `tofu` works the same way), else `terraform` on PATH. */
export function terraformBinary(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.BUILDIT_TERRAFORM_BIN?.trim();
  return configured ? configured : 'terraform';
}
