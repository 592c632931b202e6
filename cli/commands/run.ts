/**
 * `buildit run`: the command and its options. What it does is in run-command.ts, loaded only when the
 * command runs, so `buildit validate` or `--version` do not load the run engine (docker, executors).
 */
import { Option, type Command } from 'commander';
import { TRIGGER_EVENTS, type TriggerEvent } from '../../lib/pipeline/plan-types';
import { collect } from '../options';

const EXECUTORS = ['local', 'docker'] as const;

export interface RunCommandOptions {
  executor?: (typeof EXECUTORS)[number];
  only?: string[];
  var: string[];
  secret: string[];
  secretFile: string[];
  event?: TriggerEvent;
  branch?: string;
  tag?: string;
  sha?: string;
  approve: string[];
  failFast?: boolean;
  json?: boolean;
  workspace?: string;
  defaultImage?: string;
  changed?: string[];
  changedSince?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a pipeline on this machine, exactly as the server would')
    .argument('[file]', 'pipeline file', 'buildit.kdl')
    .addOption(new Option('--executor <name>', 'executor of the stages that name none (default: docker, as on the server)').choices(EXECUTORS))
    .option('--only <stage...>', 'run only these stages and what they need')
    .option('--var <name=value>', 'value of a pipeline variable (repeatable)', collect, [])
    .option('--secret <name[=value]>', 'a secret; without a value it is read from the environment variable NAME (repeatable)', collect, [])
    .option('--secret-file <file>', 'secrets from a file: NAME=VALUE lines, NAME<<EOF blocks, or a JSON object (repeatable)', collect, [])
    .addOption(
      new Option('--event <event>', 'trigger event (default: tag with --tag, else push when git knows the branch, else manual)').choices(TRIGGER_EVENTS),
    )
    .option('--branch <branch>', 'branch (default: the current git branch, else "local"; none for a tag)')
    .option('--tag <tag>', 'tag of a "tag" trigger (default: a tag of git HEAD)')
    .option('--sha <sha>', 'commit (default: git HEAD, else zeros)')
    .option('--approve <stage>', 'approve `all` stages or this one without asking (repeatable)', collect, [])
    .option('--fail-fast', 'cancel everything at the first failure')
    .option('--json', 'print only NDJSON events on stdout (docs/events.md)')
    .option('--workspace <dir>', 'run in this directory in place (default: a copy of the current directory)')
    .option('--changed <file...>', 'files the trigger changed (paths from the repository root), for `paths=` and `when changes=`; default: from git')
    .option('--changed-since <ref>', 'compute the changed files from where HEAD left REF to the working tree (default: the upstream, else origin/HEAD)')
    .option('--default-image <image>', 'image of container stages that name none (default: $BUILDIT_DEFAULT_IMAGE)')
    .action(async (file: string, options: RunCommandOptions) => {
      process.exitCode = await (await import('./run-command')).runCommand(file, options);
    });
}
