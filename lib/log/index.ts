import pino, { type DestinationStream, type Logger } from 'pino';
import { logLevelFromEnv } from '../config/env';

/**
 * Where every logger of the process writes: stdout, synchronously. pino's default destination buffers
 * and, at exit, flushes what is left in a loop that retries a failed write forever (sonic-boom 4.2's
 * flushSync retries every error, not only EAGAIN): a process whose stdout reader is gone (its supervisor
 * was killed) then never exits. A synchronous write leaves nothing to flush at exit, and a broken pipe
 * just drops the line. It costs about a microsecond more per line, and BuildIt logs a few lines per job
 * (stage output goes to the database, not through pino).
 */
let destination: DestinationStream | undefined;

/**
 * Structured logs (JSON lines) for the web server, the worker and the start script.
 * `BUILDIT_LOG_LEVEL` sets the level (default info); every logger carries its process name.
 */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  destination ??= pino.destination({ dest: 1, sync: true });
  return pino({ name, level: logLevelFromEnv(), base: { ...bindings } }, destination);
}

export type { Logger };
