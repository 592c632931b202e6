// Email + password sign-in against a real database: the answers, the audit rows, the rate limit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashPassword } from '../../lib/auth/passwords';
import { SignInError, signInWithPassword } from '../../lib/auth/password-sign-in';
import { recordSignIn, THROTTLE_WINDOW_MS } from '../../lib/auth/sign-in-audit';
import type { RequestOrigin } from '../../lib/auth/request-origin';
import { createTestDatabase, type TestDatabase } from '../support/db';

let db: TestDatabase;
let organizationId: string;
const PASSWORD = 'correct horse battery staple';
const WRONG = 'wrong horse battery staple';
/** Every password typed in this file, to look for in the audit log at the end. */
const TYPED = new Set<string>([PASSWORD, WRONG]);

before(async () => {
  db = await createTestDatabase();
  organizationId = (await db.prisma.organization.create({ data: { slug: 'acme', name: 'Acme' } })).id;
});
after(() => db?.drop());

const origin = (ip: string): RequestOrigin => ({ ip, userAgent: 'test-agent/1.0' });

async function createUser(email: string, options: { member?: boolean; disabled?: boolean } = {}) {
  const user = await db.prisma.user.create({
    data: { email, passwordHash: await hashPassword(PASSWORD), disabledAt: options.disabled ? new Date() : null },
  });
  if (options.member ?? true) await db.prisma.orgMembership.create({ data: { organizationId, userId: user.id, role: 'member' } });
  return user;
}

async function refusal(attempt: Promise<unknown>): Promise<SignInError> {
  try {
    await attempt;
  } catch (error) {
    assert.ok(error instanceof SignInError, String(error));
    return error;
  }
  assert.fail('the sign-in was accepted');
}

function signIn(email: string, password: string, ip: string, now?: Date) {
  TYPED.add(password);
  return signInWithPassword(db.prisma, { email, password, origin: origin(ip) }, now);
}

const signInRows = (targetId: string) => db.prisma.auditLog.findMany({ where: { action: 'auth.sign_in', targetId }, orderBy: { createdAt: 'asc' } });

test('the right password signs in and writes one success row with the user, organization and origin', async () => {
  const user = await createUser('ada@acme.test');
  const { user: signedIn } = await signIn('  Ada@ACME.test ', PASSWORD, '10.0.0.1');
  assert.deepEqual(signedIn, { id: user.id, email: 'ada@acme.test', name: null });

  const rows = await signInRows(user.id);
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.equal(row!.outcome, 'success');
  assert.equal(row!.actorUserId, user.id);
  assert.equal(row!.organizationId, organizationId);
  assert.equal(row!.targetType, 'user');
  assert.deepEqual(row!.details, { email: 'ada@acme.test', provider: 'password' });
  assert.deepEqual([row!.ip, row!.userAgent], ['10.0.0.1', 'test-agent/1.0']);
});

test('a wrong password and an unknown email get the same answer, in comparable time, each with a failed row', async () => {
  const user = await createUser('bob@acme.test');
  await refusal(signIn('warm-up@nowhere.test', WRONG, '10.0.1.1'));

  let started = performance.now();
  const wrong = await refusal(signIn('bob@acme.test', WRONG, '10.0.1.1'));
  const wrongMs = performance.now() - started;
  started = performance.now();
  const unknown = await refusal(signIn('nobody@acme.test', WRONG, '10.0.1.1'));
  const unknownMs = performance.now() - started;

  assert.deepEqual([wrong.code, wrong.message], ['invalid_credentials', 'wrong email or password']);
  assert.deepEqual([unknown.code, unknown.message], [wrong.code, wrong.message]);
  // Both verify a scrypt hash (tens of milliseconds); an unknown email does not answer at once.
  assert.ok(unknownMs > wrongMs / 3, `unknown email ${unknownMs.toFixed(0)} ms, wrong password ${wrongMs.toFixed(0)} ms`);

  const [bobRow] = await signInRows(user.id);
  assert.equal(bobRow!.outcome, 'failed');
  assert.equal(bobRow!.actorUserId, null, 'a failure is not the user acting');
  assert.equal(bobRow!.organizationId, organizationId, "in the organization's log");
  assert.deepEqual(bobRow!.details, { email: 'bob@acme.test', provider: 'password', reason: 'invalid_credentials' });
  const [unknownRow] = await signInRows('nobody@acme.test');
  assert.equal(unknownRow!.organizationId, null);
  assert.deepEqual(unknownRow!.details, { email: 'nobody@acme.test', provider: 'password', reason: 'invalid_credentials' });
});

test('a user without a password (signs in with a provider) gets the same answer as a wrong password', async () => {
  await db.prisma.user.create({ data: { email: 'oauth@acme.test' } });
  const error = await refusal(signIn('oauth@acme.test', PASSWORD, '10.0.2.1'));
  assert.deepEqual([error.code, error.message], ['invalid_credentials', 'wrong email or password']);
});

test('after 5 failures an account is refused, even with the right password, until the oldest leaves the 15 minutes', async () => {
  const user = await createUser('carol@acme.test');
  // From different addresses: the per-account limit does not depend on the address.
  for (let i = 1; i <= 5; i++) assert.equal((await refusal(signIn('carol@acme.test', WRONG, `10.0.3.${i}`))).code, 'invalid_credentials');

  const throttled = await refusal(signIn('CAROL@acme.test', PASSWORD, '10.0.3.99'));
  assert.equal(throttled.code, 'throttled');
  assert.equal(throttled.message, 'too many failed sign-ins, try again in 15 minutes');
  assert.ok(throttled.retryAfterSeconds! > 14 * 60 && throttled.retryAfterSeconds! <= 15 * 60, String(throttled.retryAfterSeconds));
  const rows = await signInRows(user.id);
  assert.equal(rows.length, 6, 'the refused attempt has its row too');
  assert.deepEqual(rows.at(-1)!.details, { email: 'carol@acme.test', provider: 'password', reason: 'throttled' });

  // Other accounts are not affected.
  await createUser('dan@acme.test');
  await signIn('dan@acme.test', PASSWORD, '10.0.3.1');

  const later = new Date(Date.now() + THROTTLE_WINDOW_MS + 1_000);
  const { user: signedIn } = await signIn('carol@acme.test', PASSWORD, '10.0.3.99', later);
  assert.equal(signedIn.id, user.id);
});

test('failures of an unknown email count against that email', async () => {
  for (let i = 0; i < 5; i++) await refusal(signIn('ghost@acme.test', WRONG, '10.0.4.1'));
  assert.equal((await refusal(signIn('ghost@acme.test', WRONG, '10.0.4.2'))).code, 'throttled');
});

test('failures through a sign-in provider do not count: they guess no password', async () => {
  const user = await createUser('olga@acme.test');
  for (let i = 0; i < 25; i++) {
    await recordSignIn(db.prisma, {
      email: 'olga@acme.test',
      userId: user.id,
      organizationId,
      provider: 'oidc',
      outcome: 'failed',
      reason: 'disabled',
      origin: origin('10.0.4.9'),
    });
  }
  assert.equal((await signIn('olga@acme.test', PASSWORD, '10.0.4.9')).user.id, user.id);
});

test('concurrent attempts take turns: 10 at once on one account give 5 wrong-password answers and 5 refusals', async () => {
  await createUser('erin@acme.test');
  const errors = await Promise.all(Array.from({ length: 10 }, (_, i) => refusal(signIn('erin@acme.test', WRONG, `10.0.5.${i}`))));
  assert.deepEqual(errors.map((error) => error.code).sort(), [...Array<string>(5).fill('invalid_credentials'), ...Array<string>(5).fill('throttled')]);
});

test('after 20 failures from one address, every account is refused from it, not from elsewhere', async () => {
  const user = await createUser('frank@acme.test');
  for (let i = 0; i < 20; i++) await refusal(signIn(`guess-${i}@acme.test`, WRONG, '10.0.6.1'));

  const throttled = await refusal(signIn('frank@acme.test', PASSWORD, '10.0.6.1'));
  assert.equal(throttled.code, 'throttled');
  assert.ok(throttled.retryAfterSeconds! > 14 * 60 && throttled.retryAfterSeconds! <= 15 * 60, String(throttled.retryAfterSeconds));
  assert.equal((await signIn('frank@acme.test', PASSWORD, '10.0.6.2')).user.id, user.id);
  const later = new Date(Date.now() + THROTTLE_WINDOW_MS + 1_000);
  assert.equal((await signIn('frank@acme.test', PASSWORD, '10.0.6.1', later)).user.id, user.id);
});

test('a disabled account is refused, and says so only to whoever knows the password', async () => {
  const user = await createUser('grace@acme.test', { disabled: true });
  assert.equal((await refusal(signIn('grace@acme.test', WRONG, '10.0.7.1'))).code, 'invalid_credentials');
  const error = await refusal(signIn('grace@acme.test', PASSWORD, '10.0.7.1'));
  assert.equal(error.code, 'disabled');
  assert.match(error.message, /disabled: ask an administrator/);
  assert.deepEqual((await signInRows(user.id)).at(-1)!.details, { email: 'grace@acme.test', provider: 'password', reason: 'disabled' });
});

test('an account in no organization is refused', async () => {
  const user = await createUser('heidi@acme.test', { member: false });
  const error = await refusal(signIn('heidi@acme.test', PASSWORD, '10.0.8.1'));
  assert.equal(error.code, 'no_organization');
  assert.match(error.message, /not a member of any organization: ask an administrator for an invitation/);
  const [row] = await signInRows(user.id);
  assert.equal(row!.organizationId, null);
});

test('BUILDIT_PASSWORD_SIGNIN=off refuses even the right password, with a row', async () => {
  const user = await createUser('ivan@acme.test');
  process.env.BUILDIT_PASSWORD_SIGNIN = 'off';
  try {
    const error = await refusal(signIn('ivan@acme.test', PASSWORD, '10.0.9.1'));
    assert.equal(error.code, 'password_sign_in_off');
    assert.match(error.message, /password sign-in is turned off/);
  } finally {
    delete process.env.BUILDIT_PASSWORD_SIGNIN;
  }
  assert.deepEqual((await signInRows(user.id)).at(-1)!.details, { email: 'ivan@acme.test', provider: 'password', reason: 'password_sign_in_off' });
});

test('no password typed in this file appears anywhere in audit_logs', async () => {
  const { rows } = await db.pool.query<{ row: string }>('SELECT a::text AS row FROM audit_logs a');
  assert.ok(rows.length > 50, `${rows.length} rows`);
  for (const { row } of rows) for (const password of TYPED) assert.ok(!row.includes(password), `a row holds a password: ${row}`);
});
