/**
 * A stack run's log (stack_run_log_chunks): the worker appends lines, already readable and masked, in
 * chunks (at most every FLUSH_MS or FLUSH_BYTES); readers page by seq. Lines are never changed afterwards.
 */
import type { PrismaClient } from '../generated/prisma/client';

const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

export class StackRunLog {
  private buffer: string[] = [];
  private bytes = 0;
  private seq: number;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly prisma: PrismaClient,
    private readonly runId: string,
    lastSeq: number,
    /** Masks every sensitive value of the run (its log lines and anything else it stores). */
    readonly mask: (line: string) => string,
    /** Called after each chunk is stored (the worker announces it to the browsers). */
    private readonly onStored: () => void = () => {},
  ) {
    this.seq = lastSeq;
  }

  /** A writer that continues after the chunks already stored (a run's apply after its plan). */
  static async open(prisma: PrismaClient, runId: string, mask: (line: string) => string, onStored?: () => void): Promise<StackRunLog> {
    const last = await prisma.stackRunLogChunk.findFirst({ where: { runId }, orderBy: { seq: 'desc' }, select: { seq: true } });
    return new StackRunLog(prisma, runId, last?.seq ?? 0, mask, onStored);
  }

  line(text: string): void {
    const masked = this.mask(text);
    this.buffer.push(masked);
    this.bytes += masked.length + 1;
    if (this.bytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves when everything given so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length > 0) {
      const text = this.buffer.map((line) => `${line}\n`).join('');
      const seq = ++this.seq;
      this.buffer = [];
      this.bytes = 0;
      this.writing = this.writing.then(() => this.prisma.stackRunLogChunk.create({ data: { runId: this.runId, seq, text } }).then(() => this.onStored()));
    }
    return this.writing;
  }
}

export async function readStackRunLog(prisma: PrismaClient, runId: string, after: number, limit: number) {
  return prisma.stackRunLogChunk.findMany({
    where: { runId, seq: { gt: after } },
    orderBy: { seq: 'asc' },
    take: limit,
    select: { seq: true, text: true, createdAt: true },
  });
}
