/**
 * `matrix fail-fast=#true max-parallel=2 { KEY "v1" "v2"; exclude KEY="v"; include KEY="v" ...; }`:
 * axes whose product is the stage's combinations, minus the `exclude`d ones (every key given must
 * match), plus the `include`d ones (a value for every key), in that order.
 */
import type { ReadContext } from './node-reader';
import { NodeReader } from './node-reader';
import { IDENTIFIER, MAX_MATRIX_PARALLEL } from './matrix';
import type { MatrixAxis, MatrixCombination, StageSpec } from './spec-types';

export const MATRIX_PROPERTIES = ['fail-fast', 'max-parallel'] as const;

export function readMatrix(reader: NodeReader, ctx: ReadContext, stage: StageSpec): void {
  reader.noArgumentsAfter(0);
  const axes: MatrixAxis[] = [];
  const lines: Array<{ kind: 'include' | 'exclude'; reader: NodeReader }> = [];
  const children = reader.children(true, 'matrix { node "18" "20"; }');
  for (const child of children) {
    const name = child.getName();
    if (name === 'include' || name === 'exclude') {
      const keys = child.entries.flatMap((entry) => entry.getName() ?? []);
      lines.push({ kind: name, reader: new NodeReader(child, ctx, keys) });
      continue;
    }
    const axis = readMatrixAxis(new NodeReader(child, ctx, []), axes);
    if (axis) axes.push(axis);
  }
  if (reader.node.children !== null && axes.length === 0) {
    ctx.diagnostics.error(reader.span, 'matrix', '`matrix` needs at least one key', 'write `matrix { node "18" "20"; }`');
  }
  stage.matrix = axes;
  const failFast = reader.booleanProperty('fail-fast') ?? false;
  const maxParallel = reader.property('max-parallel') === undefined ? null : readMaxParallel(reader);
  const include: MatrixCombination[] = [];
  const exclude: MatrixCombination[] = [];
  for (const line of lines) {
    const combination = readCombination(line.reader, axes, line.kind);
    if (combination) (line.kind === 'include' ? include : exclude).push(combination);
  }
  stage.matrixOptions = { failFast, maxParallel, include, exclude };
}

function readMaxParallel(reader: NodeReader): number | null {
  const entry = reader.property('max-parallel')!;
  const value = entry.getValue();
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_MATRIX_PARALLEL) return value;
  reader.diagnostics.error(
    reader.spanOf(entry.value),
    'matrix',
    `\`max-parallel\` must be a whole number from 1 to ${MAX_MATRIX_PARALLEL}`,
    'write e.g. `max-parallel=2`',
  );
  return null;
}

/** An `include` names a value for every key; an `exclude` any of them. Values must be strings; excluded ones must exist. */
function readCombination(reader: NodeReader, axes: MatrixAxis[], kind: 'include' | 'exclude'): MatrixCombination | null {
  reader.noChildren();
  reader.noArgumentsAfter(0);
  const values: Record<string, string> = {};
  let ok = true;
  for (const entry of reader.node.entries) {
    const key = entry.getName();
    if (key === null) continue;
    const value = reader.stringProperty(key);
    if (value === null) {
      ok = false;
      continue;
    }
    const axis = axes.find((a) => a.key === key);
    if (axis === undefined) {
      reader.diagnostics.error(
        reader.spanOf(entry),
        'matrix',
        `\`${kind}\` names \`${key}\`, which is not a key of the matrix`,
        `keys are ${axes.map((a) => `\`${a.key}\``).join(', ')}`,
      );
      ok = false;
    } else if (kind === 'exclude' && !axis.values.includes(value.value)) {
      reader.diagnostics.error(
        value.span,
        'matrix',
        `\`exclude\`: "${value.value}" is not a value of \`${key}\``,
        `values are ${axis.values.map((v) => `"${v}"`).join(', ')}`,
      );
      ok = false;
    } else values[key] = value.value;
  }
  if (Object.keys(values).length === 0 && ok) {
    reader.diagnostics.error(reader.span, 'matrix', `\`${kind}\` needs at least one \`KEY="value"\``, `write e.g. \`${kind} ${axes[0]?.key ?? 'node'}="18"\``);
    return null;
  }
  if (kind === 'include' && ok) {
    const missing = axes.filter((axis) => !Object.hasOwn(values, axis.key)).map((axis) => axis.key);
    if (missing.length > 0) {
      reader.diagnostics.error(reader.span, 'matrix', `\`include\` needs a value for every key; missing: ${missing.map((k) => `\`${k}\``).join(', ')}`);
      return null;
    }
  }
  return ok ? { values, span: reader.span } : null;
}

function readMatrixAxis(reader: NodeReader, axes: MatrixAxis[]): MatrixAxis | null {
  reader.noChildren();
  if (!IDENTIFIER.test(reader.name)) {
    reader.diagnostics.error(reader.span, 'matrix', `invalid matrix key \`${reader.name}\``, 'use letters, digits, `_` and `-`');
    return null;
  }
  const duplicate = axes.find((a) => a.key === reader.name);
  if (duplicate) {
    reader.diagnostics.error(reader.span, 'duplicate', `duplicate matrix key \`${reader.name}\``, `the first one is at line ${duplicate.span.line}`);
    return null;
  }
  if (reader.argumentCount === 0) {
    reader.diagnostics.error(reader.span, 'matrix', `matrix key \`${reader.name}\` has no values`, `write \`${reader.name} "a" "b"\``);
    return null;
  }
  const values: string[] = [];
  for (const value of reader.stringArguments(0, 'values')) {
    if (values.includes(value.value)) reader.diagnostics.error(value.span, 'duplicate', `duplicate value "${value.value}" for matrix key \`${reader.name}\``);
    else values.push(value.value);
  }
  return { key: reader.name, values, span: reader.span };
}
