/**
 * Paths a stage names (artifact globs, cache paths) must keep its files where BuildIt put them:
 * never `..`, and artifacts relative to the workspace. Checked on the text as written (validation)
 * and after interpolation (planning).
 */

/** A `..` path segment (separated by `/` or a backslash). */
const PARENT_SEGMENT = /(?:^|[\\/])\.\.(?:[\\/]|$)/;

/** Why `value` is not an acceptable path, or null. `relative`: it must also not be absolute. */
export function pathProblem(value: string, options: { relative: boolean }): string | null {
  if (value.trim() === '') return 'is empty';
  if (options.relative && (value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value))) return 'must be relative to the workspace';
  if (PARENT_SEGMENT.test(value)) return "must not contain '..'";
  return null;
}
