import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { register as registerValidate } from './commands/validate';
import { register as registerPlan } from './commands/plan';
import { register as registerRun } from './commands/run';
import { register as registerLogin } from './commands/remote/login';
import { register as registerPipelines } from './commands/remote/pipelines';
import { register as registerTrigger } from './commands/remote/trigger';
import { register as registerRuns } from './commands/remote/runs';

/** Exit codes shared by every command: 0 ok, 1 failed/invalid, 2 usage or I/O error, 130 cancelled. */
export const EXIT_USAGE = 2;

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
  // Each command module exports `register(program)`; add one line per command here.
  registerValidate(program);
  registerPlan(program);
  registerRun(program);
  registerLogin(program);
  registerPipelines(program);
  registerTrigger(program);
  registerRuns(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 2.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.stderr.write(`buildit: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
