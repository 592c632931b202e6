/**
 * Printing a run's logs: stored chunks through the REST API (`runs logs`), or live through Socket.IO with
 * catch-up (`runs logs --follow`, `trigger --follow`), until the run finishes.
 * Text: `[stage] line` per log line, status changes on stderr. `--json`: NDJSON on stdout, one object per
 * chunk (REST: `{type:"stage.log_chunk", stageRunId, stage, seq, text}`; follow: the server's run events).
 */
import type { Run } from '../../lib/api/schemas';
import { followRun, RealtimeError } from '../../lib/realtime/client';
import { UsageError } from '../errors';
import { colorEnabled, createPalette } from '../output/color';
import { describeHolder } from '../output/sinks';
import type { ApiClient } from './client';
import { ApiError } from './errors';

export interface LogOptions {
  json: boolean;
  /** Only this stage (planned stage id like `test[node=18]`, or stage name). */
  stage?: string;
}

function selectStages(run: Run, stage: string | undefined) {
  if (stage === undefined) return run.stages;
  const selected = run.stages.filter((s) => s.stageId === stage || s.name === stage || s.id === stage);
  if (selected.length === 0) {
    throw new UsageError(`run #${run.number} has no stage "${stage}": its stages are ${run.stages.map((s) => s.stageId).join(', ')}`);
  }
  return selected;
}

/** Prints every stored chunk of the run (or of one stage), stage by stage. */
export async function printStoredLogs(api: ApiClient, run: Run, options: LogOptions): Promise<void> {
  const palette = createPalette(colorEnabled(process.stdout));
  for (const stage of selectStages(run, options.stage)) {
    let after: number | undefined;
    for (;;) {
      const page = await api.readLogs(run.id, stage.id, after);
      for (const chunk of page.chunks) {
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ type: 'stage.log_chunk', runId: run.id, stageRunId: stage.id, stage: stage.stageId, seq: chunk.seq, time: chunk.createdAt, text: chunk.text })}\n`,
          );
        } else {
          const prefix = palette.stage(stage.stageId, `[${stage.stageId}]`);
          for (const line of chunk.text.replace(/\n$/, '').split('\n')) process.stdout.write(`${prefix} ${line}\n`);
        }
      }
      if (page.chunks.length === 0 || page.next === null) break;
      after = page.next;
    }
  }
}

/** Follows the run live until it finishes; returns its final status. */
export async function followLogs(api: ApiClient, run: Run, options: LogOptions): Promise<string> {
  const only = options.stage === undefined ? null : new Set(selectStages(run, options.stage).map((s) => s.stageId));
  const palette = createPalette(colorEnabled(process.stdout));
  const errorPalette = createPalette(colorEnabled(process.stderr));
  const follow = followRun({
    url: api.url,
    token: api.token,
    runId: run.id,
    onNotice: (message) => process.stderr.write(`buildit: ${message}\n`),
    onChunk: (chunk) => {
      if (only && !only.has(chunk.stage)) return;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(chunk)}\n`);
        return;
      }
      const prefix = palette.stage(chunk.stage, `[${chunk.stage}]`);
      for (const { stream, line } of chunk.lines) {
        process.stdout.write(`${prefix} ${stream === 'system' ? palette.dim(line) : stream === 'stderr' ? palette.yellow(line) : line}\n`);
      }
    },
    onEvent: (event) => {
      if ('stage' in event && only && !only.has(event.stage)) return;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(event)}\n`);
        return;
      }
      if (event.type === 'stage.started')
        process.stderr.write(errorPalette.dim(`--- ${event.stage} started (attempt ${event.attempt}, ${event.executor})`) + '\n');
      if (event.type === 'stage.waiting_approval') process.stderr.write(errorPalette.dim(`--- ${event.stage} waits for approval`) + '\n');
      if (event.type === 'stage.waiting_lock') {
        const holder = event.holder ? ` (held by ${describeHolder(event.holder)})` : '';
        process.stderr.write(errorPalette.dim(`--- ${event.stage} waits for lock "${event.lock}"${holder}`) + '\n');
      }
      if (event.type === 'stage.finished') {
        const paint = event.status === 'succeeded' ? errorPalette.green : event.status === 'failed' ? errorPalette.red : errorPalette.yellow;
        process.stderr.write(paint(`--- ${event.stage} ${event.status}${event.reason ? `: ${event.reason}` : ''}`) + '\n');
      }
    },
  });
  try {
    const final = await follow.done;
    if (!options.json) {
      const paint = final.status === 'succeeded' ? errorPalette.green : errorPalette.red;
      process.stderr.write(paint(`run #${final.number} ${final.status}`) + '\n');
    }
    return final.status;
  } catch (error) {
    if (error instanceof RealtimeError) throw new ApiError(error.code, error.message, 0);
    throw error;
  }
}
