/**
 * `buildit runs list PIPELINE [--status S]`, `runs show RUN`, `runs cancel RUN`, `runs rerun RUN [--failed]`,
 * `runs approve RUN STAGE [--deny]`, `runs logs RUN [--stage S] [--follow]`.
 */
import { RUN_STATUSES, approveStage, rerunRun, type Run } from '../../../lib/api/schemas';
import { UsageError } from '../../errors';
import { EXIT_FAILED, EXIT_SUCCEEDED } from '../../exit-codes';
import { duration, printJson, printTable, remote, resolvePipelineId, type JsonOption } from '../../remote/command';
import { followLogs, printStoredLogs } from '../../remote/follow';

export interface ListOptions extends JsonOption {
  status?: string;
  limit: string;
}

export interface RerunOptions extends JsonOption {
  failed?: boolean;
}

export interface ApproveOptions extends JsonOption {
  deny?: boolean;
}

export interface LogsOptions extends JsonOption {
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

export async function list(ref: string, options: ListOptions): Promise<void> {
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
}

export async function show(runId: string, options: JsonOption): Promise<void> {
  const run = await remote().api.getRun(runId);
  if (options.json) printJson(run);
  else printRun(run);
}

export async function cancel(runId: string, options: JsonOption): Promise<void> {
  const run = await remote().api.cancelRun(runId);
  if (options.json) printJson(run);
  else process.stdout.write(run.status === 'cancelled' ? `Run #${run.number} cancelled.\n` : `Cancel of run #${run.number} requested; the worker stops it.\n`);
}

export async function rerun(runId: string, options: RerunOptions): Promise<void> {
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
}

export async function approve(runId: string, stageId: string, options: ApproveOptions): Promise<void> {
  const context = remote();
  if (!(await context.api.supports(approveStage))) {
    throw new UsageError(`the server at ${context.api.url} does not support approvals yet (no approve operation in its API); approve in its web app instead`);
  }
  const run = await context.api.getRun(runId);
  const stage = run.stages.find((candidate) => candidate.stageId === stageId || candidate.id === stageId);
  if (!stage) throw new UsageError(`run #${run.number} has no stage "${stageId}"; its stages: ${run.stages.map((s) => s.stageId).join(', ')}`);
  const decided = await context.api.decideStage(run.id, stage.id, !options.deny);
  if (options.json) printJson(decided);
  else process.stdout.write(`Stage ${stage.stageId} of run #${run.number} ${options.deny ? 'denied: it is skipped' : 'approved: it starts shortly'}.\n`);
}

export async function logs(runId: string, options: LogsOptions): Promise<number | void> {
  const context = remote();
  const run = await context.api.getRun(runId);
  const logOptions = { json: Boolean(options.json), ...(options.stage !== undefined ? { stage: options.stage } : {}) };
  if (!options.follow) {
    await printStoredLogs(context.api, run, logOptions);
    return;
  }
  const status = await followLogs(context.api, run, logOptions);
  return status === 'succeeded' ? EXIT_SUCCEEDED : EXIT_FAILED;
}
