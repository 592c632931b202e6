/**
 * `buildit trigger PIPELINE [--branch B] [--sha S] [--tag T] [--var k=v]... [--follow]`: starts a manual run.
 * With --follow, prints its logs live and exits 0 when the run succeeded, 1 otherwise.
 */
import type { Command } from 'commander';
import { action, collect, parseVariables, printJson, remote, resolvePipelineId, type JsonOption } from '../../remote/command';
import { followLogs } from '../../remote/follow';
import { EXIT_FAILED } from '../../remote/errors';

interface TriggerOptions extends JsonOption {
  branch?: string;
  sha?: string;
  tag?: string;
  message?: string;
  var: string[];
  follow?: boolean;
}

export function register(program: Command): void {
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
    .action(
      action(async (ref: string, options: TriggerOptions) => {
        const variables = parseVariables(options.var);
        const context = remote();
        const pipelineId = await resolvePipelineId(context, ref);
        const run = await context.api.triggerRun(pipelineId, {
          ...(options.branch !== undefined ? { branch: options.branch } : {}),
          ...(options.sha !== undefined ? { sha: options.sha } : {}),
          ...(options.tag !== undefined ? { tag: options.tag } : {}),
          ...(options.message !== undefined ? { message: options.message } : {}),
          variables,
        });
        if (options.json && !options.follow) printJson(run);
        else if (!options.json) {
          const target = options.follow ? process.stderr : process.stdout;
          target.write(`Triggered run #${run.number} (${run.id}): ${run.stages.map((s) => `${s.stageId}${s.status === 'skipped' ? ' (skipped)' : ''}`).join(', ')}\n`);
        }
        if (!options.follow) return;
        const status = await followLogs(context.api, run, { json: Boolean(options.json) });
        return status === 'succeeded' ? 0 : EXIT_FAILED;
      }),
    );
}
