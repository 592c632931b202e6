/**
 * `buildit trigger PIPELINE [--branch B] [--sha S] [--tag T] [--var k=v]... [--follow]`: starts a manual run.
 * With --follow, prints its logs live and exits 0 when the run succeeded, 1 otherwise.
 */
import { EXIT_FAILED, EXIT_SUCCEEDED } from '../../exit-codes';
import { printJson, remote, resolvePipelineId, type JsonOption } from '../../remote/command';
import { followLogs } from '../../remote/follow';
import { parsePairs } from '../run-inputs';

export interface TriggerOptions extends JsonOption {
  branch?: string;
  sha?: string;
  tag?: string;
  message?: string;
  var: string[];
  follow?: boolean;
}

export async function trigger(ref: string, options: TriggerOptions): Promise<number | void> {
  const variables = parsePairs(options.var, '--var');
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
    target.write(
      `Triggered run #${run.number} (${run.id}): ${run.stages.map((s) => `${s.stageId}${s.status === 'skipped' ? ' (skipped)' : ''}`).join(', ')}\n`,
    );
  }
  if (!options.follow) return;
  const status = await followLogs(context.api, run, { json: Boolean(options.json) });
  return status === 'succeeded' ? EXIT_SUCCEEDED : EXIT_FAILED;
}
