/**
 * After the worker stored something of a stack run (a log chunk, a new status), it tells the web servers,
 * which tell the browsers of the run's tenant (`stack_run.event`, docs/realtime.md): the run's status and
 * last log chunk as stored, so a reader re-reads only what changed. A failed publish only loses the live
 * event (readers get it from the REST API when they next read).
 */
import type { Logger } from '../../../lib/log';
import type { StackRunDeps } from './session';

export async function announceStackRun(deps: StackRunDeps, runId: string, log: Logger): Promise<void> {
  if (!deps.publisher) return;
  try {
    const run = await deps.prisma.stackRun.findUnique({ where: { id: runId }, select: { status: true, stackId: true, stack: { select: { tenantId: true } } } });
    if (!run) return;
    const last = await deps.prisma.stackRunLogChunk.findFirst({ where: { runId }, orderBy: { seq: 'desc' }, select: { seq: true } });
    await deps.publisher.publish(run.stack.tenantId, { stackRunId: runId, stackId: run.stackId, status: run.status, lastSeq: last?.seq ?? 0 });
  } catch (error) {
    log.warn({ err: error, stackRunId: runId }, 'stack run event not published');
  }
}
