import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../../lib/auth/passwords';

const PASSWORD = 'correct horse battery staple';

test('a hash names its scheme and parameters, then a 16-byte salt and the key, in base64', async () => {
  const stored = await hashPassword(PASSWORD);
  const [scheme, n, r, p, salt, key, ...rest] = stored.split('$');
  assert.deepEqual([scheme, n, r, p, rest], ['scrypt', '32768', '8', '1', []]);
  assert.equal(Buffer.from(salt!, 'base64').length, 16);
  assert.equal(Buffer.from(key!, 'base64').length, 32);
  assert.ok(!stored.includes(PASSWORD));
});

test('verify: the right password is accepted, any other refused', async () => {
  const stored = await hashPassword(PASSWORD);
  assert.equal(await verifyPassword(PASSWORD, stored), true);
  assert.equal(await verifyPassword('correct horse battery stapl', stored), false);
  assert.equal(await verifyPassword('Correct horse battery staple', stored), false);
  assert.equal(await verifyPassword('', stored), false);
  assert.equal(await verifyPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1), stored), false);
});

test('two hashes of the same password differ (random salt), and both verify', async () => {
  const [a, b] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword(PASSWORD, a), true);
  assert.equal(await verifyPassword(PASSWORD, b), true);
});

test('the same password typed composed or decomposed (é as one or two code points) verifies', async () => {
  const stored = await hashPassword('caf\u00e9 au lait, sans sucre');
  assert.equal(await verifyPassword('cafe\u0301 au lait, sans sucre', stored), true);
});

test('a malformed stored hash throws, saying what to do, instead of passing for a wrong password', async () => {
  for (const stored of ['', 'plain', 'scrypt$32768$8$1$c2FsdA==', 'bcrypt$32768$8$1$c2FsdHNhbHRzYWx0c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5']) {
    await assert.rejects(verifyPassword(PASSWORD, stored), /stored password hash .*set the password again/, stored);
  }
  // Parameters that would need gigabytes are refused, not run.
  const huge = (await hashPassword(PASSWORD)).replace('$32768$', `$${2 ** 24}$`);
  await assert.rejects(verifyPassword(PASSWORD, huge), /stored password hash/);
});

test('passwordProblem: 12 to 1024 characters, the message says what to do', () => {
  assert.equal(passwordProblem(PASSWORD), null);
  assert.equal(passwordProblem('x'.repeat(MIN_PASSWORD_LENGTH)), null);
  assert.equal(passwordProblem('x'.repeat(MAX_PASSWORD_LENGTH)), null);
  assert.match(passwordProblem('x'.repeat(MIN_PASSWORD_LENGTH - 1)) ?? '', /too short: use at least 12 characters/);
  assert.match(passwordProblem('') ?? '', /at least 12/);
  assert.match(passwordProblem('x'.repeat(MAX_PASSWORD_LENGTH + 1)) ?? '', /too long: use at most 1024 characters/);
  // Characters as a person counts them: 12 emoji are 12 characters (24 UTF-16 units).
  assert.equal(passwordProblem('🔑'.repeat(12)), null);
  assert.match(passwordProblem('🔑'.repeat(11)) ?? '', /too short/);
});
