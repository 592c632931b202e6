/**
 * After the worker stored something of a stack run (a log chunk, a new status), it tells the web servers,
 * which tell the browsers of the run's tenant (`stack_run.event`, lib/stacks/announce.ts). A failed publish
 * only loses the live event (readers get it from the REST API when they next read).
 */
import type { Logger } from '../../../lib/log';
import { stackRunEvent } from '../../../lib/stacks/announce';
import type { StackRunDeps } from './session';

export async function announceStackRun(deps: StackRunDeps, runId: string, log: Logger): Promise<void> {
  if (!deps.publisher) return;
  try {
    const found = await stackRunEvent(deps.prisma, runId);
    if (found) await deps.publisher.publish(found.tenantId, found.event);
  } catch (error) {
    log.warn({ err: error, stackRunId: runId }, 'stack run event not published');
  }
}
