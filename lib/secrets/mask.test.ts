import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMasker, maskedFragments, MASK } from './mask';

test('masks every occurrence of a secret in a line', () => {
  const mask = createMasker(['hunter22']);
  assert.equal(mask('password=hunter22 again hunter22'), `password=${MASK} again ${MASK}`);
  assert.equal(mask('nothing secret here'), 'nothing secret here');
});

test('masks each line of a multi-line secret, trimmed, and the lines of CRLF values', () => {
  const key = '-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUA==\n  indented-line-xyz\n\n-----END KEY-----\n';
  const mask = createMasker([key, 'first-line\r\nsecond-line']);
  assert.equal(mask('-----BEGIN KEY-----'), MASK);
  assert.equal(mask('QUJDREVGR0hJSktMTU5PUA=='), MASK);
  assert.equal(mask('    indented-line-xyz'), `    ${MASK}`);
  assert.equal(mask('x second-line y'), `x ${MASK} y`);
  assert.equal(mask('first-line'), MASK);
});

test('longest secret wins where secrets overlap', () => {
  const mask = createMasker(['abcd', 'abcdefgh']);
  assert.equal(mask('abcdefgh'), MASK);
  assert.equal(mask('abcd-abcdefgh-abcd'), `${MASK}-${MASK}-${MASK}`);
  assert.deepEqual(
    maskedFragments(['abcd', 'abcdefgh']).filter((fragment) => fragment.startsWith('abcd')),
    ['abcdefgh', 'abcd'],
  );
});

test('regex metacharacters in secrets are literal', () => {
  const mask = createMasker(['a.b*c(d)$']);
  assert.equal(mask('x a.b*c(d)$ y axbbbc(d)$'), `x ${MASK} y axbbbc(d)$`);
});

test('values shorter than 4 characters are not masked (documented trade-off)', () => {
  const mask = createMasker(['on', '', 'abc\nlonger-line']);
  assert.equal(mask('turn on abc'), 'turn on abc');
  assert.equal(mask('longer-line'), MASK);
  assert.deepEqual(maskedFragments(['on', '']), []);
});

test('masks the base64 form of a secret: whole, wrapped at 76 columns, and inside longer base64 text at any offset', () => {
  const secret = 'correct-horse-battery-staple';
  const mask = createMasker([secret]);
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  assert.equal(mask(`token: ${base64(secret)}`), `token: ${MASK}`);
  for (const prefix of ['', 'u', 'us', 'use', 'user:']) {
    const line = base64(`${prefix}${secret}@example.com`);
    const masked = mask(line);
    assert.ok(masked.includes(MASK), `${prefix}: ${masked}`);
    assert.ok(!Buffer.from(masked.replaceAll(MASK, ''), 'base64').toString('utf8').includes('horse-battery'), `${prefix}: ${masked}`);
  }
  const long = `${secret}-${'x'.repeat(100)}\n`;
  const wrapped = base64(long).match(/.{1,76}/g)!;
  assert.ok(wrapped.length > 1);
  const longMask = createMasker([long]);
  for (const line of wrapped) assert.equal(longMask(line), MASK);
});

test('a multi-line secret is masked in base64 as a whole', () => {
  const key = '-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUA==\n-----END KEY-----\n';
  const mask = createMasker([key]);
  assert.equal(mask(Buffer.from(key).toString('base64')), MASK);
  assert.ok(maskedFragments([key]).includes(Buffer.from(key).toString('base64')));
});
