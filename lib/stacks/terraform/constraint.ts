/**
 * A stack's terraform version constraint, in Terraform's own syntax (`required_version`): comma-separated
 * terms, each an operator (`=`, `!=`, `>`, `>=`, `<`, `<=`, `~>`; none means `=`) and a version of one to three
 * numbers, optionally a pre-release (`1.12.0-beta1`). Every term must hold. The comparisons are semver's
 * (the npm library): the terms become one semver range, except `!=` (semver has no such operator: checked on
 * its own) and `~>`, translated here because semver's `~` differs (`~1` allows 1.x; Terraform's `~> 1.11`
 * allows any 1.x from 1.11). A pre-release satisfies only a range that names a pre-release of the same
 * version (`>= 1.12.0-beta1`), never `>= 1.9`: semver's rule, a little looser than Terraform's (which takes
 * a pre-release only for an exact `= 1.12.0-beta1`), so a binary Terraform would accept is never refused.
 */
import { eq, satisfies, valid } from './semver';

const TERM = /^(=|!=|>=|<=|>|<|~>)?\s*(\d+(?:\.\d+){0,2})(-[0-9A-Za-z.-]+)?$/;
const SYNTAX = 'an operator (=, !=, >, >=, <, <=, ~>) and a version, terms separated by commas, e.g. "1.11.4", ">= 1.9, < 2.0" or "~> 1.11"';

export interface VersionConstraint {
  /** As the stack has it: the messages quote it. */
  text: string;
  /** The terms other than `!=`, as one semver range ('' when there are none: any release). */
  range: string;
  /** The versions a `!=` term excludes. */
  excluded: string[];
}

export class VersionConstraintError extends Error {
  override name = 'VersionConstraintError';
}

/** Up to three numbers, padded with zeros: Terraform reads `1.9` as `1.9.0`. */
const padded = (numbers: string) => [...numbers.split('.').map(Number), 0, 0].slice(0, 3);

/** `~> 1.11` is `>= 1.11.0, < 2.0.0`, `~> 1.11.4` is `>= 1.11.4, < 1.12.0`: only the last number given may grow. */
function pessimistic(numbers: string, version: string): string {
  const given = numbers.split('.').map(Number);
  if (given.length === 1) return `>=${version}`;
  const upper = [...given.slice(0, -2), given.at(-2)! + 1, 0, 0].slice(0, 3);
  return `>=${version} <${upper.join('.')}`;
}

export function parseVersionConstraint(text: string): VersionConstraint {
  const ranges: string[] = [];
  const excluded: string[] = [];
  for (const term of text.split(',').map((part) => part.trim())) {
    const match = TERM.exec(term);
    const version = match ? `${padded(match[2]!).join('.')}${match[3] ?? ''}` : null;
    if (!match || version === null || valid(version) === null) {
      const where = term === text.trim() ? '' : term === '' ? 'it has an empty term; ' : `"${term}" is not a term; `;
      throw new VersionConstraintError(`"${text}" is not a terraform version constraint: ${where}write ${SYNTAX}`);
    }
    const operator = match[1] ?? '=';
    if (operator === '!=') excluded.push(version);
    else ranges.push(operator === '~>' ? pessimistic(match[2]!, version) : `${operator}${version}`);
  }
  return { text, range: ranges.join(' '), excluded };
}

/** Null when valid, else what is wrong (for the API's schema). */
export function versionConstraintError(text: string): string | null {
  try {
    parseVersionConstraint(text);
    return null;
  } catch (error) {
    if (error instanceof VersionConstraintError) return error.message;
    throw error;
  }
}

export function satisfiesConstraint(constraint: VersionConstraint, version: string): boolean {
  return satisfies(version, constraint.range) && !constraint.excluded.some((excluded) => eq(version, excluded));
}
