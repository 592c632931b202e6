/**
 * Event sinks of `buildit run`: NDJSON for machines (`--json`), a readable printer for people.
 * Both only ever see events, exactly as the worker's database sink does.
 */
import type { EventSink, RunEvent, StageFinishedEvent, StageOutcome } from '../../lib/events/types';
import type { Palette } from './color';

export interface Output {
  write(chunk: string): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  /** Set once the reader went away (EPIPE): output is dropped, the run goes on being cancelled. */
  readonly destroyed?: boolean;
}

/** Waits for 'drain' when the stream's buffer is full, so a slow reader slows the run, not the memory. */
function writeLine(out: Output, line: string): void | Promise<void> {
  if (out.destroyed || out.write(line + '\n')) return;
  return new Promise((resolve) => {
    out.once('drain', resolve);
    out.once('close', resolve);
  });
}

/** `--json`: one event per line, exactly the RunEvent objects, nothing else on this stream. */
export class NdjsonSink implements EventSink {
  constructor(private readonly out: Output) {}
  emit(event: RunEvent): void | Promise<void> {
    return writeLine(this.out, JSON.stringify(event));
  }
}

/** `1.23s`, `450ms`, `2m03s`: for people, rounded (formatDuration in the orchestrator is exact). */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = String(totalSeconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}h${String(minutes).padStart(2, '0')}m${seconds}s` : `${minutes}m${seconds}s`;
}

const STATUS_MARK: Record<StageOutcome, string> = { succeeded: '✔', failed: '✖', skipped: '○', cancelled: '■' };

/**
 * Human output: `[stage] line` with the stage id in its own colour, a line when a stage starts and
 * ends (with its duration), and a summary table at the end.
 */
export class HumanPrinter implements EventSink {
  private width = 0;
  private readonly finished = new Map<string, StageFinishedEvent>();
  private stageOrder: string[] = [];

  constructor(
    private readonly out: Output,
    private readonly palette: Palette,
  ) {}

  emit(event: RunEvent): void | Promise<void> {
    const text = this.format(event);
    return text === null ? undefined : writeLine(this.out, text);
  }

  format(event: RunEvent): string | null {
    const p = this.palette;
    switch (event.type) {
      case 'run.started':
        this.stageOrder = event.stages.map((stage) => stage.id);
        this.width = Math.max(0, ...this.stageOrder.map((id) => id.length));
        return p.bold(`▶ ${event.pipeline}: ${event.stages.length} stage${event.stages.length === 1 ? '' : 's'} (run ${event.runId})`);
      case 'stage.queued':
        return null;
      case 'stage.waiting_approval':
        return `${this.prefix(event.stage)} ${p.dim('⏸ waiting for approval')}`;
      case 'stage.waiting_lock':
        return `${this.prefix(event.stage)} ${p.dim(`⏸ waiting for lock "${event.lock}"${event.holder ? ` (held by ${describeHolder(event.holder)})` : ''}`)}`;
      case 'stage.started': {
        const retry = event.attempt > 1 ? `, attempt ${event.attempt}` : '';
        return `${this.prefix(event.stage)} ${p.dim(`▶ started on ${event.executor}${retry}`)}`;
      }
      case 'stage.log': {
        const line = event.stream === 'system' ? p.dim(`» ${event.line}`) : event.line;
        return `${this.prefix(event.stage)} ${line}`;
      }
      case 'stage.finished': {
        this.finished.set(event.stage, event);
        const mark = this.statusText(event.status, `${STATUS_MARK[event.status]} ${event.status}`);
        const took = event.attempt > 0 ? ` in ${humanDuration(event.durationMs)}` : '';
        const reason = event.reason ? `: ${event.reason}` : '';
        return `${this.prefix(event.stage)} ${mark}${took}${reason}`;
      }
      case 'run.finished': {
        const summary = this.summary();
        const verdict = `${p.bold(this.statusText(event.status, `run ${event.status}`))} in ${humanDuration(event.durationMs)}`;
        return summary ? `${summary}\n${verdict}` : verdict;
      }
    }
  }

  private prefix(stageId: string): string {
    return this.palette.stage(stageId, `[${stageId}]`.padEnd(this.width + 2));
  }

  private statusText(status: StageOutcome, text: string): string {
    const p = this.palette;
    return status === 'succeeded' ? p.green(text) : status === 'failed' ? p.red(text) : status === 'cancelled' ? p.yellow(text) : p.dim(text);
  }

  private summary(): string {
    if (this.stageOrder.length === 0) return '';
    const rows = this.stageOrder.map((id) => {
      const event = this.finished.get(id);
      return [
        id,
        event?.status ?? 'pending',
        String(event?.attempt ?? 0),
        event && event.attempt > 0 ? humanDuration(event.durationMs) : '-',
        event?.reason ?? '',
      ];
    });
    const header = ['STAGE', 'STATUS', 'ATTEMPTS', 'DURATION', 'REASON'];
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
    const format = (row: string[]) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    return ['', this.palette.bold(format(header)), ...rows.map(format)].join('\n');
  }
}

/** `stage "deploy" of run #12` (the server knows run numbers), `stage "deploy"` within the same run. */
export function describeHolder(holder: { runId: string; stage: string; runNumber?: number }): string {
  return `stage "${holder.stage}"${holder.runNumber === undefined ? '' : ` of run #${holder.runNumber}`}`;
}
