/**
 * `${...}` templates. Values are substituted as plain text; nothing is evaluated, and no shell of
 * ours sees them before the stage's own `sh -e`. `$${` writes a literal `${`.
 */

export type TemplatePart =
  | { text: string }
  /** `occurrence` = index of this `${` among all `${` in the string, to find its source position. */
  | { ref: Reference; occurrence: number };

export interface Reference {
  /** As written between the braces, trimmed: `git.sha`. */
  expression: string;
  namespace: string;
  /** After the first dot; '' when there is none. */
  key: string;
}

export interface TemplateError {
  message: string;
  occurrence: number;
}

export interface Template {
  parts: TemplatePart[];
  errors: TemplateError[];
}

export const GIT_FIELDS = ['sha', 'short_sha', 'branch', 'tag', 'message', 'author', 'pr', 'source_branch', 'target_branch'] as const;
/** Namespaces with a fixed set of keys. */
export const FIXED_KEYS: Record<string, readonly string[]> = {
  git: GIT_FIELDS,
  pipeline: ['name'],
  run: ['id', 'number'],
  stage: ['name'],
};
/** Namespaces whose keys are declared by the pipeline. */
export const OPEN_NAMESPACES = ['matrix', 'env', 'var', 'secrets', 'needs'] as const;
export const ALL_NAMESPACES = [...Object.keys(FIXED_KEYS), ...OPEN_NAMESPACES];

const cache = new Map<string, Template>();

/** Parses a template; results are memoized because one pipeline repeats the same strings a lot. */
export function parseTemplate(value: string): Template {
  if (!value.includes('${')) return { parts: value === '' ? [] : [{ text: value }], errors: [] };
  let template = cache.get(value);
  if (template === undefined) {
    template = scanTemplate(value);
    if (cache.size > 10_000) cache.clear();
    cache.set(value, template);
  }
  return template;
}

function scanTemplate(value: string): Template {
  const parts: TemplatePart[] = [];
  const errors: TemplateError[] = [];
  let text = '';
  let occurrence = 0;
  let i = 0;
  while (i < value.length) {
    if (value.startsWith('$${', i)) {
      text += '${';
      occurrence++;
      i += 3;
      continue;
    }
    if (!value.startsWith('${', i)) {
      text += value[i];
      i++;
      continue;
    }
    const close = value.indexOf('}', i + 2);
    if (close === -1) {
      errors.push({ occurrence, message: 'unterminated `${`: add a closing `}` (write `$${` for a literal `${`)' });
      text += value.slice(i);
      break;
    }
    const expression = value.slice(i + 2, close).trim();
    if (expression === '') errors.push({ occurrence, message: 'empty reference `${}`' });
    else {
      if (text !== '') parts.push({ text });
      text = '';
      parts.push({ ref: splitReference(expression), occurrence });
    }
    occurrence++;
    i = close + 1;
  }
  if (text !== '') parts.push({ text });
  return { parts, errors };
}

function splitReference(expression: string): Reference {
  const dot = expression.indexOf('.');
  if (dot === -1) return { expression, namespace: expression, key: '' };
  return { expression, namespace: expression.slice(0, dot), key: expression.slice(dot + 1) };
}

/** Substitutes every reference with `resolve(ref)`; templates are assumed valid (validated before). */
export function renderTemplate(template: Template, resolve: (ref: Reference) => string): string {
  let out = '';
  for (const part of template.parts) out += 'text' in part ? part.text : resolve(part.ref);
  return out;
}

/** Counts `${` occurrences, the unit `occurrence` indexes. */
export function countOpenings(text: string): number {
  let count = 0;
  for (let i = text.indexOf('${'); i !== -1; i = text.indexOf('${', i + 2)) count++;
  return count;
}

/** `${needs.STAGE.outputs.NAME}` split up, or null when the key has another shape. */
export function outputReference(ref: Reference): { stage: string; output: string } | null {
  return ref.namespace === 'needs' ? outputKey(ref.key) : null;
}

/** `STAGE.outputs.NAME` (what follows `needs.`) split up, or null when it has another shape. */
export function outputKey(key: string): { stage: string; output: string } | null {
  const match = /^(.+)\.outputs\.([^.]+)$/.exec(key);
  return match ? { stage: match[1]!, output: match[2]! } : null;
}
