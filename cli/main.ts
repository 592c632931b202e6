import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { messageOf } from '../lib/errors';
import { register as registerValidate } from './commands/validate';
import { register as registerPlan } from './commands/plan';
import { register as registerRun } from './commands/run';
import { register as registerRemote } from './commands/remote/index';
import { register as registerAdmin } from './commands/admin/index';
import { EXIT_SUCCEEDED, EXIT_USAGE } from './exit-codes';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('buildit')
    .description('BuildIt: run and manage KDL pipelines and Terraform stacks')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run `buildit --help` for usage)')
    .exitOverride();
  // Each command module exports `register(program)`; add one line per module here.
  registerValidate(program);
  registerPlan(program);
  registerRun(program);
  registerRemote(program); // login, pipelines, trigger, runs, secrets
  registerAdmin(program); // admin rotate-secret-key
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 2.
      process.exitCode = error.exitCode === 0 ? EXIT_SUCCEEDED : EXIT_USAGE;
      return;
    }
    process.stderr.write(`buildit: ${messageOf(error)}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
