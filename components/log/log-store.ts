// The lines of one stage's log, kept as the chunks they arrived in (arrays of a few thousand lines each), so a
// log of a million lines is a few hundred small arrays: never one giant string, never an element per line.
// Chunks come from the REST API (a page at load) and from Socket.IO (live), in any order: they are applied in
// `seq` order, each once; a chunk ahead of a gap waits until the gap is filled (docs/realtime.md).

export type LogStreamName = 'stdout' | 'stderr' | 'system';

/** One stored chunk, as the API and the `stage.log_chunk` event both describe it. */
export interface LogChunkInput {
  seq: number;
  /** Line number of its first line (per stage run, from 1). */
  firstLine: number;
  lines: ReadonlyArray<{ stream: LogStreamName; line: string }>;
  /** When it was stored: the time shown beside its lines. */
  time: number;
}

interface Block {
  /** Index (in the store) of the block's first line. */
  start: number;
  firstLine: number;
  lines: string[];
  /** Stream of each line: STREAM_CODES. */
  streams: Uint8Array;
  time: number;
}

const STREAM_CODES: Record<LogStreamName, number> = { stdout: 0, stderr: 1, system: 2 };
const STREAM_NAMES: readonly LogStreamName[] = ['stdout', 'stderr', 'system'];

export class LogStore {
  private readonly blocks: Block[] = [];
  private readonly held = new Map<number, LogChunkInput>();
  /** Lines held in the store. */
  lineCount = 0;
  /** The last seq applied: every chunk up to it is in. */
  lastSeq = 0;
  /** Bumped on every change, for React to notice. */
  version = 0;

  /** Applies a chunk (or holds it until the chunks before it are in); true when lines were added. */
  add(chunk: LogChunkInput): boolean {
    if (chunk.seq <= this.lastSeq) return false;
    if (chunk.seq > this.lastSeq + 1) {
      this.held.set(chunk.seq, chunk);
      return false;
    }
    this.append(chunk);
    for (let next = this.held.get(this.lastSeq + 1); next; next = this.held.get(this.lastSeq + 1)) {
      this.held.delete(next.seq);
      this.append(next);
    }
    for (const seq of this.held.keys()) if (seq <= this.lastSeq) this.held.delete(seq);
    this.version++;
    return true;
  }

  /** True while a chunk waits for an earlier one that has not arrived. */
  hasGap(): boolean {
    return this.held.size > 0;
  }

  private append(chunk: LogChunkInput): void {
    const count = chunk.lines.length;
    const lines = new Array<string>(count);
    const streams = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const { stream, line } = chunk.lines[i]!;
      lines[i] = line;
      streams[i] = STREAM_CODES[stream] ?? 0;
    }
    this.lastSeq = chunk.seq;
    if (count === 0) return;
    this.blocks.push({ start: this.lineCount, firstLine: chunk.firstLine, lines, streams, time: chunk.time });
    this.lineCount += count;
  }

  /** The block holding line `index` (0-based position in the store): binary search, O(log blocks). */
  private blockIndexAt(index: number): number {
    let low = 0;
    let high = this.blocks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.blocks[middle]!.start <= index) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  line(index: number): { text: string; number: number; stream: LogStreamName; time: number } {
    const block = this.blocks[this.blockIndexAt(index)]!;
    const offset = index - block.start;
    return { text: block.lines[offset]!, number: block.firstLine + offset, stream: STREAM_NAMES[block.streams[offset]!]!, time: block.time };
  }

  /** The position of line number `lineNumber` (as shown and linked, `#L123`), or -1. */
  indexOfLineNumber(lineNumber: number): number {
    let low = 0;
    let high = this.blocks.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const block = this.blocks[middle]!;
      if (lineNumber < block.firstLine) high = middle - 1;
      else if (lineNumber >= block.firstLine + block.lines.length) low = middle + 1;
      else return block.start + (lineNumber - block.firstLine);
    }
    return -1;
  }

  /** Calls `visit` for lines from position `from` on, block by block, until it returns false. */
  scan(from: number, visit: (text: string, index: number) => boolean): void {
    if (from >= this.lineCount) return;
    for (let blockIndex = this.blockIndexAt(from); blockIndex < this.blocks.length; blockIndex++) {
      const block = this.blocks[blockIndex]!;
      for (let offset = Math.max(0, from - block.start); offset < block.lines.length; offset++) {
        if (!visit(block.lines[offset]!, block.start + offset)) return;
      }
    }
  }
}
