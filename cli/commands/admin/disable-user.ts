/** `buildit admin disable-user EMAIL` / `enable-user EMAIL` (docs/sign-in.md). */
import { setUserDisabled } from '../../../lib/auth/users';
import { UsageError } from '../../errors';
import { printJson, type JsonOption } from '../../remote/command';
import { withInstallationDatabase } from './database';

export async function setUserDisabledCommand(email: string, disabled: boolean, options: JsonOption): Promise<void> {
  const result = await withInstallationDatabase((prisma) => setUserDisabled(prisma, email, disabled));
  if (result === null) throw new UsageError(`no user has the email ${email}: check the spelling (emails are matched without case)`);
  if (options.json) printJson({ email, disabled, ...result });
  else if (disabled) process.stdout.write(`Disabled ${email}: ${result.endedSessions} session(s) ended; their API tokens stop working until enable-user.\n`);
  else process.stdout.write(`Enabled ${email}: they can sign in again, and their API tokens work again.\n`);
}
