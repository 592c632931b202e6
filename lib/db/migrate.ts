// Applies prisma/migrations to a database with `prisma migrate deploy` (through lib/db/prisma-cli.ts, so it
// works offline with the schema-engine stand-in). Called on start and by the test template setup.
import { runPrisma } from './prisma-cli';

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface MigrateResult {
  durationMs: number;
  output: string;
}

/** Redacts the password of any postgres URL in `text`. */
function redact(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/g, '$1***@');
}

export async function migrateDeploy(url: string, options: { timeoutMs?: number } = {}): Promise<MigrateResult> {
  const result = await runPrisma(['migrate', 'deploy'], { databaseUrl: url, timeoutMs: options.timeoutMs ?? 120_000 });
  const output = redact(`${result.stdout}\n${result.stderr}`.trim());
  if (result.code !== 0) {
    const errorLines = output
      .split('\n')
      .filter((l) => /error|P\d{4}|failed/i.test(l))
      .slice(0, 8)
      .join('\n');
    const target = redact(url);
    throw new MigrationError(
      `Applying database migrations to ${target} failed (prisma migrate deploy exited with ${result.code}` +
        `${result.engine.kind === 'standin' ? ', using the schema-engine stand-in' : ''}).\n` +
        `${errorLines || output.slice(-2000)}\n` +
        'Check that the database is reachable and that the user may create tables; ' +
        'run `npm run prisma -- migrate status` for details.',
      output,
    );
  }
  return { durationMs: result.durationMs, output };
}
