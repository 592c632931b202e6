/**
 * `buildit runs list PIPELINE [--status S]`, `runs show RUN`, `runs cancel RUN`, `runs rerun RUN [--failed]`,
 * `runs logs RUN [--stage S] [--follow]`.
 */
import type { Command } from 'commander';
import { RUN_STATUSES, rerunRun, type Run } from '../../../lib/api/schemas';
import { action, duration, printJson, printTable, remote, resolvePipelineId, type JsonOption } from '../../remote/command';
import { followLogs, printStoredLogs } from '../../remote/follow';
import { EXIT_FAILED, UsageError } from '../../remote/errors';

interface ListOptions extends JsonOption {
  status?: string;
  limit: string;
}

interface LogsOptions extends JsonOption {
  stage?: string;
  follow?: boolean;
}

function printRun(run: Run): void {
  const lines = [
    `Run #${run.number} ${run.status}${run.cancelRequestedAt && run.status === 'running' ? ' (cancel requested)' : ''}`,
    `  id:       ${run.id}`,
    `  pipeline: ${run.pipelineId}`,
    `  trigger:  ${run.event}${run.branch ? ` on ${run.branch}` : ''}${run.tag ? ` tag ${run.tag}` : ''}${run.commitSha ? ` at ${run.commitSha.slice(0, 12)}` : ''}`,
    `  created:  ${run.createdAt}${run.startedAt ? `, took ${duration(run.startedAt, run.finishedAt)}` : ''}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  printTable(
    ['STAGE', 'STATUS', 'ATTEMPT', 'DURATION', 'REASON'],
    run.stages.map((s) => [s.stageId, s.status, String(s.attempt), duration(s.startedAt, s.finishedAt), s.reason ?? '']),
  );
}

export function register(program: Command): void {
  const runs = program.command('runs').description('runs on a BuildIt server');

  runs
    .command('list')
    .description('list the runs of a pipeline, newest first')
    .argument('<pipeline>', 'pipeline id, slug or TENANT/SLUG')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`)
    .option('--limit <n>', 'most runs shown (1-100)', '20')
    .option('--json', 'print JSON')
    .action(
      action(async (ref: string, options: ListOptions) => {
        const status = RUN_STATUSES.find((known) => known === options.status);
        if (options.status !== undefined && status === undefined) {
          throw new UsageError(`unknown status "${options.status}": use one of ${RUN_STATUSES.join(', ')}`);
        }
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError(`--limit must be an integer from 1 to 100, got "${options.limit}"`);
        const context = remote();
        const page = await context.api.listRuns(await resolvePipelineId(context, ref), { status, limit });
        if (options.json) {
          printJson(page.items);
          return;
        }
        if (page.items.length === 0) {
          process.stderr.write('no runs\n');
          return;
        }
        printTable(
          ['#', 'ID', 'STATUS', 'TRIGGER', 'BRANCH', 'CREATED', 'DURATION'],
          page.items.map((r) => [String(r.number), r.id, r.status, r.event, r.branch ?? r.tag ?? '', r.createdAt, duration(r.startedAt, r.finishedAt)]),
        );
      }),
    );

  runs
    .command('show')
    .description('show a run and its stages')
    .argument('<run>', 'run id')
    .option('--json', 'print JSON')
    .action(
      action(async (runId: string, options: JsonOption) => {
        const run = await remote().api.getRun(runId);
        if (options.json) printJson(run);
        else printRun(run);
      }),
    );

  runs
    .command('cancel')
    .description('cancel a queued or running run')
    .argument('<run>', 'run id')
    .option('--json', 'print the run as JSON')
    .action(
      action(async (runId: string, options: JsonOption) => {
        const run = await remote().api.cancelRun(runId);
        if (options.json) printJson(run);
        else process.stdout.write(run.status === 'cancelled' ? `Run #${run.number} cancelled.\n` : `Cancel of run #${run.number} requested; the worker stops it.\n`);
      }),
    );

  runs
    .command('rerun')
    .description('run a finished run again (all stages, or only the failed ones)')
    .argument('<run>', 'run id')
    .option('--failed', 'rerun only the failed stages (and what depends on them)')
    .option('--json', 'print the new run as JSON')
    .action(
      action(async (runId: string, options: JsonOption & { failed?: boolean }) => {
        const context = remote();
        // Only ask for what the server says it can do: a missing endpoint would otherwise look like a missing run.
        if (!(await context.api.supports(rerunRun))) {
          throw new UsageError(
            `the server at ${context.api.url} does not support rerunning runs yet (no rerun operation in its API); ` +
              'trigger the pipeline again with `buildit trigger PIPELINE --branch B --sha S` instead',
          );
        }
        const run = await context.api.rerunRun(runId, { failedOnly: Boolean(options.failed) });
        if (options.json) {
          printJson(run);
          return;
        }
        const reused = run.stages.filter((stage) => stage.status === 'succeeded').map((stage) => stage.stageId);
        process.stdout.write(`Started run #${run.number} (${run.id})${reused.length > 0 ? `, reusing ${reused.join(', ')}` : ''}.\n`);
      }),
    );

  runs
    .command('logs')
    .description('print the logs of a run (with --follow: live, until the run finishes)')
    .argument('<run>', 'run id')
    .option('--stage <stage>', 'only this stage (id like test[node=18], or name)')
    .option('--follow', 'stream new output until the run finishes; exit 1 unless it succeeded')
    .option('--json', 'NDJSON: one object per log chunk (and per run event with --follow)')
    .action(
      action(async (runId: string, options: LogsOptions) => {
        const context = remote();
        const run = await context.api.getRun(runId);
        const logOptions = { json: Boolean(options.json), ...(options.stage !== undefined ? { stage: options.stage } : {}) };
        if (!options.follow) {
          await printStoredLogs(context.api, run, logOptions);
          return;
        }
        const status = await followLogs(context.api, run, logOptions);
        return status === 'succeeded' ? 0 : EXIT_FAILED;
      }),
    );
}
