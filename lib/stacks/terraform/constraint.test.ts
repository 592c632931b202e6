import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVersionConstraint, satisfiesConstraint, versionConstraintError } from './constraint';

const matches = (constraint: string, version: string) => satisfiesConstraint(parseVersionConstraint(constraint), version);

test("Terraform's operators: =, !=, >, >=, <, <=, and every comma-separated term must hold", () => {
  assert.equal(matches('1.11.4', '1.11.4'), true);
  assert.equal(matches('= 1.11.4', '1.11.5'), false);
  assert.equal(matches('1.11', '1.11.0'), true, 'missing numbers are zeros');
  assert.equal(matches('>= 1.9, < 2.0', '1.11.4'), true);
  assert.equal(matches('>= 1.9, < 2.0', '2.0.0'), false);
  assert.equal(matches('>= 1.9, < 2.0', '1.8.5'), false);
  assert.equal(matches('> 1.9.0', '1.9.0'), false);
  assert.equal(matches('<= 1.9.0', '1.9.0'), true);
  assert.equal(matches('!= 1.10.0', '1.10.0'), false);
  assert.equal(matches('!= 1.10.0', '1.11.4'), true);
  assert.equal(matches('>=1.9,!=1.10.0,<2', '1.10.0'), false, 'spaces are optional');
});

test('~> lets only the last number given grow (unlike semver ~)', () => {
  assert.equal(matches('~> 1.11', '1.11.0'), true);
  assert.equal(matches('~> 1.11', '1.99.3'), true);
  assert.equal(matches('~> 1.11', '1.10.9'), false);
  assert.equal(matches('~> 1.11', '2.0.0'), false);
  assert.equal(matches('~> 1.11.4', '1.11.9'), true);
  assert.equal(matches('~> 1.11.4', '1.11.3'), false);
  assert.equal(matches('~> 1.11.4', '1.12.0'), false);
  assert.equal(matches('~> 1', '7.0.0'), true);
  assert.equal(matches('~> 1', '0.15.5'), false);
});

test('a pre-release satisfies only a constraint that names a pre-release of the same version', () => {
  assert.equal(matches('>= 1.9', '1.12.0-beta1'), false);
  assert.equal(matches('1.12.0-beta1', '1.12.0-beta1'), true);
  assert.equal(matches('>= 1.12.0-beta1, < 1.13', '1.12.0-beta2'), true);
  assert.equal(matches('>= 1.12.0-beta1', '1.12.0'), true);
});

test('what is not a constraint says what one looks like', () => {
  for (const text of ['latest', '1.x', '~ 1.11', '>= 1.9 < 2.0', '>= 1.9,', '1.2.3.4', '=> 1.9', '']) {
    const problem = versionConstraintError(text);
    assert.ok(problem, `"${text}" is refused`);
    assert.match(problem, new RegExp(`^"${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" is not a terraform version constraint: `));
    assert.match(problem, /e\.g\. "1\.11\.4", ">= 1\.9, < 2\.0" or "~> 1\.11"/);
  }
  assert.match(versionConstraintError('latest')!, /constraint: write an operator/);
  assert.match(versionConstraintError('>= 1.9,')!, /constraint: it has an empty term; write an operator/);
  assert.match(versionConstraintError('>= 1.9, 1.x')!, /constraint: "1\.x" is not a term; write an operator/);
  assert.equal(versionConstraintError('>= 1.9, < 2.0'), null);
});
