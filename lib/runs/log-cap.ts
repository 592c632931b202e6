/**
 * The per-stage log cap (BUILDIT_LOG_CAP_BYTES, default 100 MiB). A stage that prints more keeps its
 * head and its tail: lines are stored as they come until the head is full (cap minus the tail size),
 * then they go through a ring buffer holding the last `tailBytes` (default 1 MiB); what falls out of the
 * ring is counted, and when the stage ends a marker line saying how much was dropped is stored, then the
 * ring. The end of a log (where the error usually is) is therefore never lost, and the stored log never
 * exceeds the cap by more than the notice and marker lines (a few hundred bytes).
 *
 * Lines held in the ring are not live: they are stored (and published) when the stage ends. So that a
 * live viewer does not take the silence for a hung stage, a notice line is stored when the head is full.
 * A stage whose log stays under the head size never has lines held back.
 */
import type { LogStream } from '../events/types';

export const DEFAULT_LOG_TAIL_BYTES = 1024 * 1024;

export interface CappedLine {
  stream: LogStream;
  line: string;
  /** Attempt of the stage the line belongs to. */
  attempt: number;
}

/** Stored size of a line: its UTF-8 bytes plus the newline. */
export function lineBytes(line: string): number {
  return Buffer.byteLength(line, 'utf8') + 1;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}

export class StageLogCap {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private stored: number;
  private ringMode = false;
  private readonly ring: Array<CappedLine & { bytes: number }> = [];
  private ringBytes = 0;
  private droppedLines = 0;
  private droppedBytes = 0;

  /**
   * @param capBytes the cap of the stage's stored log
   * @param tailBytes size of the kept tail (at most half the cap)
   * @param storedBytes bytes of this stage already stored (a recovering worker continues the count)
   */
  constructor(
    private readonly capBytes: number,
    tailBytes = DEFAULT_LOG_TAIL_BYTES,
    storedBytes = 0,
  ) {
    this.tailLimit = Math.max(1, Math.min(tailBytes, Math.floor(capBytes / 2)));
    this.headLimit = Math.max(0, capBytes - this.tailLimit);
    this.stored = storedBytes;
  }

  /** The lines to store now for this new line: the line itself, or nothing (held in the ring). */
  push(line: CappedLine): CappedLine[] {
    const bytes = lineBytes(line.line);
    if (!this.ringMode && this.stored + bytes <= this.headLimit) {
      this.stored += bytes;
      return [line];
    }
    if (!this.ringMode) {
      this.ringMode = true;
      // A resumed stage whose head was already full has had its notice.
      if (this.stored <= this.headLimit) {
        const notice: CappedLine = { stream: 'system', attempt: line.attempt, line: this.notice() };
        this.stored += lineBytes(notice.line);
        this.pushRing(line, bytes);
        return [notice];
      }
    }
    this.pushRing(line, bytes);
    return [];
  }

  private pushRing(line: CappedLine, bytes: number): void {
    this.ring.push({ ...line, bytes });
    this.ringBytes += bytes;
    // The newest line always stays, even when it alone is bigger than the tail.
    while (this.ringBytes > this.tailLimit && this.ring.length > 1) {
      const dropped = this.ring.shift()!;
      this.ringBytes -= dropped.bytes;
      this.droppedLines++;
      this.droppedBytes += dropped.bytes;
    }
  }

  /** At the end of the stage: the marker (when lines were dropped) and the held tail, in order. */
  finish(): CappedLine[] {
    const out: CappedLine[] = [];
    if (this.droppedLines > 0) {
      const attempt = this.ring[0]?.attempt ?? 1;
      out.push({ stream: 'system', attempt, line: this.marker() });
    }
    for (const { stream, line, attempt } of this.ring) out.push({ stream, line, attempt });
    this.stored += this.ringBytes;
    this.ring.length = 0;
    this.ringBytes = 0;
    return out;
  }

  get dropped(): { lines: number; bytes: number } {
    return { lines: this.droppedLines, bytes: this.droppedBytes };
  }

  private notice(): string {
    return (
      `[buildit] the log reached ${formatBytes(this.headLimit)} of its ${formatBytes(this.capBytes)} cap (BUILDIT_LOG_CAP_BYTES): ` +
      `further output is held back, and its last ${formatBytes(this.tailLimit)} is stored when the stage ends`
    );
  }

  private marker(): string {
    return (
      `[buildit] ${this.droppedLines} lines (${formatBytes(this.droppedBytes)}) dropped: the log exceeded the ${formatBytes(this.capBytes)} cap ` +
      `(BUILDIT_LOG_CAP_BYTES); the first ${formatBytes(this.headLimit)} and the last ${formatBytes(this.tailLimit)} are kept`
    );
  }
}
