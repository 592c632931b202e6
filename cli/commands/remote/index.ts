/**
 * The remote commands (docs/cli-remote.md): their arguments and options. What each one does is in its own
 * module, imported when the command runs: those load zod (the API schemas) and socket.io-client, about
 * 150 ms that `validate`, `plan` and `--version` need not pay.
 */
import type { Command } from 'commander';
import { SCOPES } from '../../../lib/auth/authorize';
import { RUN_STATUSES } from '../../../lib/events/types';
import { collect } from '../../options';
import type { JsonOption } from '../../remote/command';
import { action } from '../../remote/errors';
import type { LoginOptions } from './login';
import type { CreateOptions, TenantOption } from './pipelines';
import type { ApproveOptions, ListOptions, LogsOptions, RerunOptions } from './runs';
import type { SetOptions } from './secrets';
import type { CreateStackOptions } from './stacks';
import type { CreateTokenOptions } from './tokens';
import type { TriggerOptions } from './trigger';

export function register(program: Command): void {
  registerLogin(program);
  registerPipelines(program);
  registerTrigger(program);
  registerRuns(program);
  registerTokens(program);
  registerSecrets(program);
  registerStacks(program);
}

function registerLogin(program: Command): void {
  program
    .command('login')
    .description('check an API token against a BuildIt server and store both for the remote commands')
    .option('--url <url>', 'server URL, e.g. https://buildit.example.com (default: $BUILDIT_URL)')
    .option('--token <token>', 'API token, bk_... (default: $BUILDIT_TOKEN)')
    .option('--token-stdin', 'read the API token from stdin')
    .option('--tenant <tenant>', 'default tenant (id or slug) for commands that take --tenant')
    .option('--json', 'print the result as JSON')
    .action(action(async (options: LoginOptions) => (await import('./login')).login(options)));
}

function registerPipelines(program: Command): void {
  const pipelines = program.command('pipelines').description('pipelines stored on a BuildIt server');
  pipelines
    .command('list')
    .description('list pipelines (of one tenant, or of every tenant the token sees)')
    .option('--tenant <tenant>', 'tenant id or slug')
    .option('--json', 'print JSON')
    .action(action(async (options: TenantOption) => (await import('./pipelines')).list(options)));
  pipelines
    .command('create')
    .description('create a pipeline from a KDL file (validated by the server)')
    .requiredOption('-f, --file <file>', 'the pipeline file (KDL)')
    .option('--tenant <tenant>', 'tenant id or slug (default: login --tenant, or the only tenant)')
    .option('--name <name>', 'pipeline name (default: the name in the file)')
    .option('--slug <slug>', 'unique slug in the tenant (default: derived from the name)')
    .option('--json', 'print the created pipeline as JSON')
    .action(action(async (options: CreateOptions) => (await import('./pipelines')).create(options)));
  pipelines
    .command('show')
    .description('show a pipeline and its config')
    .argument('<pipeline>', 'pipeline id, slug or TENANT/SLUG')
    .option('--json', 'print JSON')
    .action(action(async (ref: string, options: JsonOption) => (await import('./pipelines')).show(ref, options)));
}

function registerTrigger(program: Command): void {
  program
    .command('trigger')
    .description('start a run of a pipeline on the server')
    .argument('<pipeline>', 'pipeline id, slug or TENANT/SLUG')
    .option('--branch <branch>', "branch (default: the pipeline's default branch)")
    .option('--sha <sha>', 'commit id')
    .option('--tag <tag>', 'tag')
    .option('--message <message>', 'commit message')
    .option('--var <key=value>', 'a variable (repeatable)', collect, [])
    .option('--follow', 'print the logs live until the run finishes; exit 1 unless it succeeded')
    .option('--json', 'print the run as JSON (with --follow: NDJSON run events)')
    .action(action(async (ref: string, options: TriggerOptions) => (await import('./trigger')).trigger(ref, options)));
}

function registerRuns(program: Command): void {
  const runs = program.command('runs').description('runs on a BuildIt server');
  runs
    .command('list')
    .description('list the runs of a pipeline, newest first')
    .argument('<pipeline>', 'pipeline id, slug or TENANT/SLUG')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`)
    .option('--limit <n>', 'most runs shown (1-100)', '20')
    .option('--json', 'print JSON')
    .action(action(async (ref: string, options: ListOptions) => (await import('./runs')).list(ref, options)));
  runs
    .command('show')
    .description('show a run and its stages')
    .argument('<run>', 'run id')
    .option('--json', 'print JSON')
    .action(action(async (runId: string, options: JsonOption) => (await import('./runs')).show(runId, options)));
  runs
    .command('cancel')
    .description('cancel a queued or running run')
    .argument('<run>', 'run id')
    .option('--json', 'print the run as JSON')
    .action(action(async (runId: string, options: JsonOption) => (await import('./runs')).cancel(runId, options)));
  runs
    .command('rerun')
    .description('run a finished run again (all stages, or only the failed ones)')
    .argument('<run>', 'run id')
    .option('--failed', 'rerun only the failed stages (and what depends on them)')
    .option('--json', 'print the new run as JSON')
    .action(action(async (runId: string, options: RerunOptions) => (await import('./runs')).rerun(runId, options)));
  runs
    .command('approve')
    .description('approve a stage waiting for approval (or deny it)')
    .argument('<run>', 'run id')
    .argument('<stage>', 'stage id, e.g. deploy or test[node=18]')
    .option('--deny', 'deny it instead: the stage is skipped')
    .option('--json', 'print the stage run as JSON')
    .action(action(async (runId: string, stageId: string, options: ApproveOptions) => (await import('./runs')).approve(runId, stageId, options)));
  runs
    .command('logs')
    .description('print the logs of a run (with --follow: live, until the run finishes)')
    .argument('<run>', 'run id')
    .option('--stage <stage>', 'only this stage (id like test[node=18], or name)')
    .option('--follow', 'stream new output until the run finishes; exit 1 unless it succeeded')
    .option('--json', 'NDJSON: one object per log chunk (and per run event with --follow)')
    .action(action(async (runId: string, options: LogsOptions) => (await import('./runs')).logs(runId, options)));
}

function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description("a tenant's secrets on a BuildIt server (values go in, never out)");
  secrets
    .command('set')
    .description('create or replace a secret; the value comes from stdin (one final newline dropped) or --from-file (verbatim)')
    .argument('<name>', 'secret name: letters, digits and _, as the pipeline declares it')
    .option('--from-file <file>', 'read the value from this file')
    .option('--tenant <tenant>', 'tenant id or slug (default: login --tenant, or the only tenant)')
    .option('--json', 'print the secret (name, who set it and when) as JSON')
    .action(action(async (name: string, options: SetOptions) => (await import('./secrets')).set(name, options)));
  secrets
    .command('list')
    .description('list the secrets of a tenant: names, who set them and when')
    .option('--tenant <tenant>', 'tenant id or slug (default: login --tenant, or the only tenant)')
    .option('--json', 'print JSON')
    .action(action(async (options: TenantOption) => (await import('./secrets')).list(options)));
  secrets
    .command('delete')
    .description('delete a secret')
    .argument('<name>', 'secret name')
    .option('--tenant <tenant>', 'tenant id or slug (default: login --tenant, or the only tenant)')
    .option('--json', 'print the result as JSON')
    .action(action(async (name: string, options: TenantOption) => (await import('./secrets')).remove(name, options)));
}

function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('API tokens: yours, and (organization admins) the organization service tokens');
  tokens
    .command('list')
    .description('list your tokens (and service tokens), revoked and expired ones too')
    .option('--json', 'print JSON')
    .action(action(async (options: JsonOption) => (await import('./tokens')).list(options)));
  tokens
    .command('create')
    .description('create a token and print it, this once')
    .argument('<name>', 'what the token is for, e.g. "deploy from CI"')
    .option('--scope <scope>', `what it may do (repeatable): ${SCOPES.join(', ')}`, collect, [])
    .option('--tenant <tenant>', 'restrict it to this tenant (id or slug)')
    .option('--expires <when>', 'a duration from now (90m, 12h, 30d) or a date (2027-06-30); default: never')
    .option('--service', 'an organization service token, with no user (organization admins)')
    .option('--json', 'print the token and its details as JSON')
    .action(action(async (name: string, options: CreateTokenOptions) => (await import('./tokens')).create(name, options)));
  tokens
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<token>', 'token id (see tokens list)')
    .option('--json', 'print the revoked token as JSON')
    .action(action(async (tokenId: string, options: JsonOption) => (await import('./tokens')).revoke(tokenId, options)));
}

function registerStacks(program: Command): void {
  const stacks = program.command('stacks').description('Terraform stacks on a BuildIt server (docs/stacks.md)');
  const load = () => import('./stacks');
  stacks
    .command('list')
    .description('list the stacks of a tenant: last run, drift, lock holder')
    .option('--tenant <tenant>', 'tenant id or slug (default: login --tenant, or the only tenant)')
    .option('--json', 'print JSON')
    .action(action(async (options: TenantOption) => (await load()).list(options)));
  stacks
    .command('create')
    .description('create a stack (from a repository, or uploaded with `stacks plan STACK DIR`)')
    .requiredOption('--name <name>', 'stack name')
    .option('--tenant <tenant>', 'tenant id or slug (default: login --tenant, or the only tenant)')
    .option('--repository <url>', 'clone URL of the configuration (default: uploaded by the CLI)')
    .option('--ref <branch>', 'branch to check out (default main)')
    .option('--path <dir>', 'directory of the configuration in the repository (default .)')
    .option('--environment <name>', 'the environment its outputs go to')
    .option('--auto-apply', 'apply plans with changes without waiting for approval')
    .option('--drift-schedule <cron>', 'cron (UTC) of the drift check')
    .option('--terraform <name>', "which of the workers' terraform binaries it runs (BUILDIT_TERRAFORM_BINS; default: the worker's default)")
    .option('--terraform-version <constraint>', "terraform version constraint, e.g. '~> 1.11' or '>= 1.9, < 2.0' (met from the workers' binaries)")
    .option('--json', 'print the stack as JSON')
    .action(action(async (options: CreateStackOptions) => (await load()).create(options)));
  stacks
    .command('show')
    .description('show a stack: source, drift, lock holder, outputs')
    .argument('<stack>', 'stack id, slug or TENANT/SLUG')
    .option('--json', 'print JSON')
    .action(action(async (ref: string, options: JsonOption) => (await load()).show(ref, options)));
  stacks
    .command('plan')
    .description('queue a plan (uploading DIR as the configuration) and follow it')
    .argument('<stack>', 'stack id, slug or TENANT/SLUG')
    .argument('[dir]', 'configuration directory to upload (stacks without a repository; default: the last upload)')
    .option('--json', 'print the run as JSON at the end (the log goes to stderr)')
    .action(action(async (ref: string, dir: string | undefined, options: JsonOption) => (await load()).plan(ref, dir, options)));
  stacks
    .command('apply')
    .description('queue a plan to apply (uploading DIR), follow it until it waits for approval (or is applied, on auto-apply stacks)')
    .argument('<stack>', 'stack id, slug or TENANT/SLUG')
    .argument('[dir]', 'configuration directory to upload')
    .option('--json', 'print the run as JSON at the end (the log goes to stderr)')
    .action(action(async (ref: string, dir: string | undefined, options: JsonOption) => (await load()).apply(ref, dir, options)));
  stacks
    .command('approve')
    .description('approve a planned run and follow its apply')
    .argument('<run>', 'stack run id')
    .option('--json', 'print the run as JSON at the end')
    .action(action(async (runId: string, options: JsonOption) => (await load()).approve(runId, options)));
  stacks
    .command('unlock')
    .description("force-unlock a stack's state (its holder is gone)")
    .argument('<stack>', 'stack id, slug or TENANT/SLUG')
    .option('--json', 'print JSON')
    .action(action(async (ref: string, options: JsonOption) => (await load()).unlock(ref, options)));
  const state = stacks.command('state').description("a stack's state versions");
  state
    .command('list')
    .description('list the state versions of a stack')
    .argument('<stack>', 'stack id, slug or TENANT/SLUG')
    .option('--json', 'print JSON')
    .action(action(async (ref: string, options: JsonOption) => (await load()).stateList(ref, options)));
  state
    .command('show')
    .description('show a state version: resources and outputs (sensitive values hidden)')
    .argument('<version>', 'state version id')
    .option('--json', 'print JSON')
    .action(action(async (versionId: string, options: JsonOption) => (await load()).stateShow(versionId, options)));
  state
    .command('rollback')
    .description('make a state version current again (written as a new version)')
    .argument('<version>', 'state version id')
    .option('--json', 'print JSON')
    .action(action(async (versionId: string, options: JsonOption) => (await load()).stateRollback(versionId, options)));
}
