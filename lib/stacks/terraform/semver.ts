/**
 * The functions of the npm `semver` library that constraint.ts and version.ts use, typed. semver ships no
 * types and @types/semver is not installed; an ambient `declare module` would reach only the programs that
 * include its file (a compiler run from another root file, as tests/api/openapi-clients.test.ts makes, would not).
 */
// @ts-expect-error -- semver is untyped CommonJS: the signatures below are those of its documentation
import * as semver from 'semver';

/** The version normalized, or null when it is not semver. */
export const valid: (version: string) => string | null = semver.valid;
export const satisfies: (version: string, range: string) => boolean = semver.satisfies;
export const eq: (a: string, b: string) => boolean = semver.eq;
/** For sorting highest first. */
export const rcompare: (a: string, b: string) => number = semver.rcompare;
