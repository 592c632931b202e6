/**
 * Errors of the remote commands and how they end the process:
 * - ApiError (the server answered with an error, or could not be reached): `buildit: <message> (<code>)`, exit 1.
 * - UsageError (bad arguments, no config, a feature the server lacks): `buildit: <message>`, exit 2.
 */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

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

export class UsageError extends Error {}

/** Prints the error the way every remote command does and returns the exit code. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
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
  stderr.write(`buildit: ${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}\n`);
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
      return [`${file}:${line}:${typeof column === 'number' ? column : 1}: ${typeof severity === 'string' && severity !== 'error' ? `${severity}: ` : ''}${message}`];
    }
    return [typeof path === 'string' && path !== '' ? `${path}: ${message}` : message];
  });
}
