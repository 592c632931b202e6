/**
 * Errors of the remote commands and how they end the process:
 * - ApiError (the server answered with an error, or could not be reached): `buildit: <message> (<code>)`, exit 1.
 * - UsageError (bad arguments, no config, a feature the server lacks): `buildit: <message>`, exit 2.
 * Loaded at start-up (every remote command's action goes through `action`), so it imports nothing heavy.
 */
import { messageOf } from '../../lib/errors';
import { UsageError } from '../errors';
import { EXIT_FAILED, EXIT_SUCCEEDED, EXIT_USAGE } from '../exit-codes';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

/** Runs a command action; any error becomes `buildit: ...` on stderr and exit 1 (API) or 2 (usage). */
export function action<A extends unknown[]>(run: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await run(...args);
      process.exitCode = code ?? EXIT_SUCCEEDED;
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

/** Prints the error the way every remote command does and returns the exit code. */
function reportError(error: unknown): number {
  const { stderr } = process;
  if (error instanceof ApiError) {
    stderr.write(`buildit: ${error.message} (${error.code})\n`);
    for (const line of detailLines(error.details)) stderr.write(`  ${line}\n`);
    return EXIT_FAILED;
  }
  if (error instanceof UsageError) {
    stderr.write(`buildit: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const code = (error as { code?: unknown } | null)?.code;
  stderr.write(`buildit: ${messageOf(error)}${typeof code === 'string' ? ` (${code})` : ''}\n`);
  return EXIT_FAILED;
}

/** Details of an error: pipeline diagnostics (`file:line:col: message`) or field issues (`path: message`). */
function detailLines(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((item: unknown) => {
    if (typeof item === 'string') return [item];
    if (!item || typeof item !== 'object') return [];
    const { message, path, file, line, column, severity } = item as Record<string, unknown>;
    if (typeof message !== 'string') return [];
    if (typeof file === 'string' && typeof line === 'number') {
      return [
        `${file}:${line}:${typeof column === 'number' ? column : 1}: ${typeof severity === 'string' && severity !== 'error' ? `${severity}: ` : ''}${message}`,
      ];
    }
    return [typeof path === 'string' && path !== '' ? `${path}: ${message}` : message];
  });
}
