/**
 * `buildit admin ...`: operator commands that work on the server's own database and data directory (not
 * through the API), run on a host of the installation. Each is loaded when it runs, like the remote commands.
 */
import type { Command } from 'commander';
import type { JsonOption } from '../../remote/command';
import { action } from '../../remote/errors';

export function register(program: Command): void {
  const admin = program.command('admin').description("operator commands, run against the installation's database (DATABASE_URL, or the embedded one)");
  admin
    .command('rotate-secret-key')
    .description('re-encrypt every secret with the current key: BUILDIT_SECRET_KEY, or a new key generated into the key file (docs/secrets.md)')
    .option('--json', 'print the result as JSON')
    .action(action(async (options: JsonOption) => (await import('./rotate-secret-key')).rotateSecretKeyCommand(options)));
  for (const [name, disabled, description] of [
    ['disable-user', true, 'stop a user from signing in: their sessions end at once and their API tokens stop working (docs/sign-in.md)'],
    ['enable-user', false, 'let a disabled user sign in again'],
  ] as const) {
    admin
      .command(`${name} <email>`)
      .description(description)
      .option('--json', 'print the result as JSON')
      .action(action(async (email: string, options: JsonOption) => (await import('./disable-user')).setUserDisabledCommand(email, disabled, options)));
  }
}
