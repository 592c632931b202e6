/**
 * `when` nodes of a stage. Several `when` nodes are alternatives (any may hold); the properties of one
 * node must all hold. `status` is not a trigger test: it says how the stage judges its needs' results,
 * so it may be given once per stage, alone or next to trigger tests.
 */
import { didYouMean } from './diagnostics';
import { outputKey } from './interpolate';
import type { NodeReader, StringValue } from './node-reader';
import { TRIGGER_EVENTS, type TriggerEvent } from './plan-types';
import type { OutputCondition, StageSpec, StageStatusCondition, VariableCondition, WhenSpec } from './spec-types';

export const WHEN_PROPERTIES = ['branch', 'tag', 'event', 'status', 'changes'] as const;
export const STATUS_CONDITIONS: readonly StageStatusCondition[] = ['success', 'failure', 'always'];
const VARIABLE_PREFIX = 'var.';
const OUTPUT_PREFIX = 'needs.';

/** The properties a `when` node may carry: the fixed ones plus every `var.NAME` and `needs.STAGE.outputs.NAME` it names. */
export function whenProperties(entryNames: Array<string | null>): string[] {
  const open = entryNames.filter((name): name is string => name !== null && (name.startsWith(VARIABLE_PREFIX) || name.startsWith(OUTPUT_PREFIX)));
  return [...WHEN_PROPERTIES, ...open];
}

export function readWhen(reader: NodeReader, stage: StageSpec, eventHint: (value: string) => string): void {
  const changes = reader.stringProperty('changes');
  // Arguments are more `changes` globs.
  if (changes === null) reader.noArgumentsAfter(0);
  const moreChanges = changes === null ? [] : reader.stringArguments(0, '`changes` globs');
  const branch = reader.stringProperty('branch');
  const tag = reader.stringProperty('tag');
  const event = reader.stringProperty('event');
  const status = reader.stringProperty('status');
  const variables = readVariableConditions(reader);
  const outputs = readOutputConditions(reader);
  const given = whenProperties(reader.node.entries.map((entry) => entry.getName())).filter((name) => reader.property(name) !== undefined);
  if (given.length === 0) {
    reader.diagnostics.error(
      reader.span,
      'when',
      '`when` needs a `branch`, `tag`, `event`, `status`, `changes`, `var.NAME` or `needs.STAGE.outputs.NAME` property',
      'write e.g. `when branch="main" event="push"`, `when tag="v*"` or `when status="failure"`',
    );
    return;
  }
  if (status) readStatus(reader, stage, status.value, status.span);
  if (event && !(TRIGGER_EVENTS as readonly string[]).includes(event.value)) {
    reader.diagnostics.error(event.span, 'trigger', `unknown trigger event "${event.value}"`, eventHint(event.value));
    return;
  }
  // A node with `status` alone tests nothing about the trigger: it adds no alternative.
  if (given.length === 1 && given[0] === 'status') return;
  const when: WhenSpec = {
    branch: branch?.value ?? null,
    tag: tag?.value ?? null,
    event: (event?.value as TriggerEvent | undefined) ?? null,
    variables,
    outputs,
    changes: changes === null ? [] : [changes.value, ...moreChanges.map((glob) => glob.value)],
    span: reader.span,
  };
  stage.when.push(when);
}

function readStatus(reader: NodeReader, stage: StageSpec, value: string, span: WhenSpec['span']): void {
  if (!(STATUS_CONDITIONS as readonly string[]).includes(value)) {
    const known = `statuses are ${STATUS_CONDITIONS.map((s) => `"${s}"`).join(', ')}`;
    const suggestion = didYouMean(value, STATUS_CONDITIONS, (s) => `"${s}"`);
    reader.diagnostics.error(span, 'when', `unknown status "${value}"`, suggestion ? `${suggestion} (${known})` : known);
    return;
  }
  if (stage.statusSpan !== null) {
    reader.diagnostics.error(
      span,
      'duplicate',
      `stage "${stage.name}" already has \`status\``,
      `the first one is at line ${stage.statusSpan.line}; a stage has one status condition`,
    );
    return;
  }
  stage.status = value as StageStatusCondition;
  stage.statusSpan = span;
}

/** The string properties whose name starts with `prefix`, with the rest of the name. */
function prefixedProperties(reader: NodeReader, prefix: string): Array<{ key: string; value: StringValue }> {
  const out: Array<{ key: string; value: StringValue }> = [];
  for (const entry of reader.node.entries) {
    const name = entry.getName();
    if (name === null || !name.startsWith(prefix)) continue;
    const value = reader.stringProperty(name);
    if (value) out.push({ key: name.slice(prefix.length), value });
  }
  return out;
}

function readVariableConditions(reader: NodeReader): VariableCondition[] {
  return prefixedProperties(reader, VARIABLE_PREFIX).map(({ key, value }) => ({ name: key, value: value.value, span: value.span }));
}

/** `needs.STAGE.outputs.NAME="value"`; whether STAGE is a need that declares NAME is checked by validate.ts. */
function readOutputConditions(reader: NodeReader): OutputCondition[] {
  const out: OutputCondition[] = [];
  for (const { key, value } of prefixedProperties(reader, OUTPUT_PREFIX)) {
    const output = outputKey(key);
    if (output) out.push({ ...output, value: value.value, span: value.span });
    else {
      reader.diagnostics.error(
        value.span,
        'when',
        `\`when ${OUTPUT_PREFIX}${key}\`: outputs of needed stages are \`needs.STAGE.outputs.NAME\``,
        'write e.g. `when needs.build.outputs.CHANGED="yes"`',
      );
    }
  }
  return out;
}
