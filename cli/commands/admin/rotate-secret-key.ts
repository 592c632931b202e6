/**
 * `buildit admin rotate-secret-key` (docs/secrets.md): re-encrypts every secret with the current key, against
 * the database `npm start` would use (DATABASE_URL, else the embedded PostgreSQL of BUILDIT_DATA_DIR, started
 * for the command when BuildIt is not running). BuildIt may keep running meanwhile.
 */
import { rotateSecretKey, type RotationResult } from '../../../lib/secrets/rotate';
import { printJson, type JsonOption } from '../../remote/command';
import { withInstallationDatabase } from './database';

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
  const result = await withInstallationDatabase((prisma, dataDir) => rotateSecretKey(prisma, { dataDir }));
  if (options.json) printJson(result);
  else process.stdout.write(report(result));
}
