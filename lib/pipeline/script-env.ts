/**
 * How `${...}` reaches a `run` script: never as text. Each reference becomes `${NAME}`, a reference to
 * an environment variable of the stage that holds the value, so the shell expands it like any variable
 * and never parses it as code (GitLab's rule for its CI variables). A trigger's variable, a branch name
 * or a commit message may then hold quotes, `;` or `$(...)` and stays data.
 */
import { outputReference, type Reference } from './interpolate';

/** Environment variables starting with this belong to BuildIt: a pipeline cannot set them. */
export const RESERVED_ENV_PREFIX = 'BUILDIT_';

/** An environment variable name, which is also what a secret's name must be (secrets are injected as env vars). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A variable name or matrix key as part of an environment variable name (`-` is not allowed there). */
export function envNamePart(name: string): string {
  return name.replaceAll('-', '_');
}

/** The environment variable a reference stands for in a `run` script (`${git.sha}` → `BUILDIT_GIT_SHA`). */
export function scriptVariableName(ref: Reference): string {
  switch (ref.namespace) {
    case 'env':
      return ref.key;
    case 'git':
      return `BUILDIT_GIT_${ref.key.toUpperCase()}`;
    case 'pipeline':
      return 'BUILDIT_PIPELINE';
    case 'run':
      return ref.key === 'id' ? 'BUILDIT_RUN_ID' : 'BUILDIT_RUN_NUMBER';
    case 'stage':
      return 'BUILDIT_STAGE_NAME';
    case 'matrix':
      return `BUILDIT_MATRIX_${envNamePart(ref.key)}`;
    case 'var':
      return `BUILDIT_VAR_${envNamePart(ref.key)}`;
    case 'needs': {
      // `${needs.build.outputs.VERSION}` → BUILDIT_NEEDS_build_VERSION (stage names may hold `-` and `.`).
      const output = outputReference(ref);
      if (output) return `BUILDIT_NEEDS_${output.stage.replace(/[.-]/g, '_')}_${output.output}`;
      throw new Error(`\`\${${ref.expression}}\` is not an output reference`);
    }
    default:
      // Validation allows nothing else in a script (secrets only in `env` values).
      throw new Error(`\`\${${ref.expression}}\` cannot be used in a run script`);
  }
}

/**
 * Indexes (as counted by `countOpenings`) of the `${` that sit inside single quotes of a shell script,
 * where the shell does not expand variables. A plain scan of sh quoting: backslash escapes, '...',
 * "..." and `#` comments; heredocs are not understood, which is acceptable for a warning.
 */
export function singleQuotedOpenings(script: string): Set<number> {
  const found = new Set<number>();
  let state: 'plain' | 'single' | 'double' = 'plain';
  let occurrence = 0;
  for (let i = 0; i < script.length; i++) {
    const char = script[i];
    if (char === '$' && script[i + 1] === '{') {
      if (state === 'single') found.add(occurrence);
      occurrence++;
      i++;
      continue;
    }
    if (state === 'single') {
      if (char === "'") state = 'plain';
    } else if (char === '\\') {
      // Skips the escaped character, but never a `${` (it is counted like every other one).
      if (script[i + 1] !== '$') i++;
    } else if (state === 'double') {
      if (char === '"') state = 'plain';
    } else if (char === "'") {
      state = 'single';
    } else if (char === '"') {
      state = 'double';
    } else if (char === '#' && (i === 0 || /\s/.test(script[i - 1]!))) {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end;
    }
  }
  return found;
}
