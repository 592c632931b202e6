// Small helpers shared by the SQL modules of the queue.

/** pg returns timestamptz as Date; through Prisma's raw queries it can arrive as a string. */
export const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

/** make_interval() takes seconds; every module passes milliseconds as $n and divides in SQL. */
export function checkLeaseMs(fn: string, leaseMs: number): void {
  if (!(Number.isFinite(leaseMs) && leaseMs > 0)) throw new Error(`${fn}: leaseMs must be > 0, got ${leaseMs}`);
}
