import pino, { type Logger } from 'pino';

/**
 * Structured logs (JSON lines) for the web server, the worker and the start script.
 * `BUILDIT_LOG_LEVEL` sets the level (default info); every logger carries its process name.
 */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ name, level: process.env.BUILDIT_LOG_LEVEL ?? 'info', base: { ...bindings } });
}

export type { Logger };
