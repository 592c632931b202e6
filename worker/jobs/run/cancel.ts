/**
 * A cancel requested through the API (PipelineRun.cancelRequestedAt) reaches the worker running the run:
 * checked once at the start, then every `pollMs`.
 */
import type { PrismaClient } from '../../../lib/generated/prisma/client';
import type { Logger } from '../../../lib/log';

export interface CancelWatch {
  /** Resolves after the first check. */
  checked: Promise<void>;
  stop(): void;
}

export function watchCancelRequest(prisma: PrismaClient, runId: string, pollMs: number, log: Logger, onCancel: () => void): CancelWatch {
  let cancelled = false;
  const check = async (): Promise<void> => {
    if (cancelled) return;
    const row = await prisma.pipelineRun.findUnique({ where: { id: runId }, select: { cancelRequestedAt: true } });
    if (row?.cancelRequestedAt && !cancelled) {
      cancelled = true;
      onCancel();
    }
  };
  const poller = setInterval(() => check().catch((error: unknown) => log.warn({ err: error }, 'could not check for a cancel request')), pollMs);
  return { checked: check(), stop: () => clearInterval(poller) };
}
