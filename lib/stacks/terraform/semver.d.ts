// The npm `semver` library ships no types, and @types/semver is not a dependency: the functions constraint.ts uses.
declare module 'semver' {
  export function valid(version: string): string | null;
  export function satisfies(version: string, range: string): boolean;
  export function eq(a: string, b: string): boolean;
  export function rcompare(a: string, b: string): number;
}
