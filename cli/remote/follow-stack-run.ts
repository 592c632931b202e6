/**
 * Follows a stack run: prints its log as it grows (polling the logs route) until the run stops moving:
 * finished, or planned and waiting for an approval. Returns the run as it ended up.
 */
import type { StackRun } from '../../lib/api/schemas';
import type { ApiClient } from './client';

/** Statuses where the run waits for nobody but a person (or is over). */
const RESTING = new Set(['planned', 'no_changes', 'applied', 'discarded', 'errored', 'cancelled']);

/** A planned (or no_changes) run moves on until its plan is stored, a moment later: then it can be approved, or is (auto-apply). */
const resting = (run: StackRun) => RESTING.has(run.status) && !(['planned', 'no_changes'].includes(run.status) && run.plan?.attributes === 'pending');

export async function followStackRun(api: ApiClient, run: StackRun, options: { pollMs?: number; out?: NodeJS.WritableStream } = {}): Promise<StackRun> {
  const out = options.out ?? process.stdout;
  let after = 0;
  let current = run;
  for (;;) {
    const logs = await api.readStackRunLogs(current.id, after);
    for (const chunk of logs.items) {
      out.write(chunk.text);
      after = chunk.seq;
    }
    current = await api.getStackRun(current.id);
    // An approved auto-apply run keeps going: only a resting status ends the follow, once its log is read.
    if (resting(current) && logs.items.length === 0) return current;
    if (logs.items.length === 0) await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}
