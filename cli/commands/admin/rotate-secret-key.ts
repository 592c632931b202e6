/**
 * `buildit admin rotate-secret-key` (docs/secrets.md): re-encrypts every secret with the current key, against
 * the database `npm start` would use (DATABASE_URL, else the embedded PostgreSQL of BUILDIT_DATA_DIR, started
 * for the command when BuildIt is not running). BuildIt may keep running meanwhile.
 */
import { dataDirFromEnv } from '../../../lib/config/env';
import { resolveDatabase } from '../../../lib/db/bootstrap';
import { createPool, createPrismaClient } from '../../../lib/db/client';
import { checkDatabaseReady } from '../../../lib/db/ready';
import { rotateSecretKey, type RotationResult } from '../../../lib/secrets/rotate';
import { UsageError } from '../../errors';
import { printJson, type JsonOption } from '../../remote/command';

function report(result: RotationResult): string {
  const count = `${result.reencrypted} secret${result.reencrypted === 1 ? '' : 's'}`;
  if (result.generated) {
    return (
      `Re-encrypted ${count} with a new key (${result.keyId}), which replaced the old ones in ${result.source}.\n` +
      'Back the key file up again: the previous backup does not decrypt the secrets any more.\n'
    );
  }
  const retired = result.retiredKeyIds.length > 0 ? `Key ${result.retiredKeyIds.join(', ')} is no longer used: ` : '';
  return (
    `Re-encrypted ${count} with BUILDIT_SECRET_KEY (key ${result.keyId}); every secret uses it now.\n` +
    `${retired}remove BUILDIT_SECRET_KEY_PREVIOUS from the web servers and workers and restart them.\n`
  );
}

export async function rotateSecretKeyCommand(options: JsonOption): Promise<void> {
  const dataDir = dataDirFromEnv();
  const database = await resolveDatabase({ dataDir });
  const pool = createPool(database.url, { max: 2 });
  const prisma = createPrismaClient(pool);
  try {
    const readiness = await checkDatabaseReady(pool);
    if (!readiness.ok) throw new UsageError(`the database is not ready (${readiness.reason}): start BuildIt once (npm start), which applies its migrations`);
    const result = await rotateSecretKey(prisma, { dataDir });
    if (options.json) printJson(result);
    else process.stdout.write(report(result));
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await database.stop();
  }
}
