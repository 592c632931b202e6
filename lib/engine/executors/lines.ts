/**
 * Log lines, shared by the executors: a byte stream cut into lines, and a queue that buffers them from
 * spawn time until the orchestrator reads them.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from './types';

/** Splits one byte stream into lines: handles chunks cut mid-line or mid-UTF-8, `\r\n`, and a last line without newline. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.emit(text.slice(start, end));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  /** Emits the final line if the stream did not end with a newline. */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length > 0) this.emit(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  }
}

/**
 * An unbounded single-consumer queue of log lines, buffered from spawn time so that a `logs()` call
 * made later misses nothing. `skipLines` drops the first N lines (re-attach without duplicates).
 */
export class LogLineQueue {
  private lines: LogLine[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private consumed = false;

  push(line: LogLine): void {
    this.lines.push(line);
    this.notify();
  }

  end(error?: Error): void {
    this.ended = true;
    this.failure = error;
    this.notify();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *drain(skipLines = 0): AsyncGenerator<LogLine> {
    if (this.consumed) throw new Error('logs() may be called only once per handle');
    this.consumed = true;
    let skip = skipLines;
    for (;;) {
      // Take everything queued so far and start a new queue: O(1), and consumed lines are released
      // batch by batch (shifting the consumed front off one array cost O(n) per batch, quadratic when
      // the command prints faster than the consumer reads).
      const batch = this.lines;
      this.lines = [];
      for (const line of batch) {
        if (skip > 0) {
          skip--;
          continue;
        }
        yield line;
      }
      if (this.lines.length > 0) continue;
      if (this.ended) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
