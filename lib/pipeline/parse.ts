/**
 * KDL document → `PipelineSpec` (best effort). Schema problems (unknown nodes and properties,
 * wrong types, missing arguments, duplicates) are reported here; cross-references and graph checks
 * are in validate.ts. The spec is built even when there are errors so validation can still run and
 * report everything at once; the caller drops it when there are errors.
 */
import type { Node } from '@bgotink/kdl';
import { didYouMean, placeOf, START_OF_FILE, type DiagnosticCollector, type Span } from './diagnostics';
import { cronError } from './cron';
import { DURATION_HINT, parseDuration } from './duration';
import { IncludeWalk, type IncludeSources } from './includes';
import { LazyLocations, readKdl, StoredLocations, type KdlSource } from './kdl';
import { NodeReader, type ReadContext, type StringValue } from './node-reader';
import { IDENTIFIER } from './matrix';
import { MATRIX_PROPERTIES, readMatrix } from './parse-matrix';
import { readWhen, whenProperties } from './parse-when';
import { DEFAULTS_NODES, TemplateRegistry, type StageDraft } from './templates';
import { ENV_NAME, RESERVED_ENV_PREFIX } from './script-env';
import { TRIGGER_EVENTS, type ExecutorName, type TriggerEvent } from './plan-types';
import type { CacheSpec, EnvEntry, Named, PipelineSpec, ServiceSpec, StackAction, StageSpec, Text, TriggerSpec, VariableSpec } from './spec-types';

export const EXECUTORS: readonly ExecutorName[] = ['local', 'docker', 'kubernetes'];
export const STACK_ACTIONS: readonly StackAction[] = ['plan', 'apply', 'destroy'];
export const TOP_LEVEL_NODES = ['pipeline', 'env', 'variable', 'cache', 'stage', 'template', 'defaults', 'include'] as const;
export const PIPELINE_NODES = ['on', 'concurrency', 'timeout', 'group'] as const;
export const STAGE_NODES = [
  'needs',
  'outputs',
  'image',
  'run',
  'env',
  'secret',
  'cache',
  'artifacts',
  'service',
  'matrix',
  'when',
  'timeout',
  'retry',
  'allow-failure',
  'approval',
  'executor',
  'lock',
  'build',
  'deploy',
  'stack',
] as const;
const STAGE_NODE_NAMES = new Set<string>(STAGE_NODES);
/** Stage children that may appear once. */
const SINGLE_STAGE_NODES = new Set(['image', 'matrix', 'timeout', 'retry', 'allow-failure', 'approval', 'executor', 'lock', 'build', 'deploy', 'stack']);

const STAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const MAX_RETRY = 10;
export const MAX_CONCURRENCY = 1000;

/** How files are read for `include` (see includes.ts). */
export interface IncludeOptions {
  sources: IncludeSources;
  /** The pipeline file's own path from the repository root (for include cycles). */
  mainPath: string;
}

/** What the files of one pipeline (the main one and its includes) add up to while they are read. */
interface PipelineState {
  spec: PipelineSpec;
  templates: TemplateRegistry;
  drafts: StageDraft[];
  includes: IncludeWalk;
  storeLocations: boolean;
}

/** With `storeLocations` false, the spec's spans are resolved lazily (see `LazyLocations`). */
export function parsePipeline(
  source: KdlSource,
  file: string,
  diagnostics: DiagnosticCollector,
  storeLocations: boolean,
  include: IncludeOptions,
): PipelineSpec | null {
  const kdl = readKdl(source, diagnostics, storeLocations);
  if (kdl === null) return null;
  const locator = storeLocations ? new StoredLocations(source.text, file) : new LazyLocations(source, kdl.version, kdl.document, file);
  const spec: PipelineSpec = {
    file,
    name: '',
    span: START_OF_FILE,
    triggers: [],
    group: null,
    concurrency: null,
    timeoutMs: null,
    env: [],
    variables: [],
    caches: [],
    stages: [],
  };
  const state: PipelineState = {
    spec,
    templates: new TemplateRegistry(diagnostics),
    drafts: [],
    includes: new IncludeWalk(include.sources, include.mainPath),
    storeLocations,
  };
  const pipelineSeen = readFileNodes(kdl.document.nodes, { diagnostics, locator }, state, file, true);
  if (!pipelineSeen) diagnostics.error(START_OF_FILE, 'missing-pipeline', 'missing `pipeline "NAME"` node', 'start the file with e.g. `pipeline "my-app"`');
  for (const draft of state.drafts) spec.stages.push(state.templates.resolveStage(draft));
  return spec;
}

/** The top-level nodes of the pipeline file or of an included one; returns where `pipeline` is (main file only). */
function readFileNodes(nodes: Node[], ctx: ReadContext, state: PipelineState, file: string, main: boolean): Span | null {
  let pipelineSeen: Span | null = null;
  for (const node of nodes) {
    const name = node.getName();
    if (name === 'pipeline') {
      const span = ctx.locator.spanOf(node.name);
      if (!main) ctx.diagnostics.error(span, 'include', 'an included file cannot have a `pipeline` node', 'the including pipeline file has it');
      else if (pipelineSeen) ctx.diagnostics.error(span, 'duplicate', 'duplicate `pipeline` node', `the first one is at line ${pipelineSeen.line}`);
      else pipelineSeen = readPipelineNode(node, ctx, state.spec);
    } else if (name === 'env') readEnvBlock(node, ctx, state.spec.env);
    else if (name === 'variable') readVariable(node, ctx, state.spec.variables);
    else if (name === 'cache') readCacheDeclaration(node, ctx, state.spec.caches);
    else if (name === 'stage' || name === 'template' || name === 'defaults') readBlock(node, ctx, state, name, file);
    else if (name === 'include') readInclude(node, ctx, state);
    else reportUnknownNode(node, ctx, TOP_LEVEL_NODES, 'at the top level');
  }
  return pipelineSeen;
}

function readInclude(node: Node, ctx: ReadContext, state: PipelineState): void {
  const reader = new NodeReader(node, ctx, []);
  reader.noChildren();
  reader.noArgumentsAfter(1);
  const path = reader.requireString(0, 'a path');
  if (path === null) return;
  const source = state.includes.enter(path.value, path.span, ctx.diagnostics);
  if (source === null) return;
  const diagnostics = ctx.diagnostics.forFile(path.value);
  const kdl = readKdl(source, diagnostics, state.storeLocations);
  if (kdl !== null) {
    const locator = state.storeLocations ? new StoredLocations(source.text, path.value) : new LazyLocations(source, kdl.version, kdl.document, path.value);
    readFileNodes(kdl.document.nodes, { diagnostics, locator }, state, path.value, false);
  }
  state.includes.leave();
}

/** Reported at the node's name; its entries are not checked, as they would only add noise. */
function reportUnknownNode(node: Node, ctx: ReadContext, known: readonly string[], where: string): void {
  const name = node.getName();
  let hint = didYouMean(name, known);
  if (hint === undefined && (STAGE_NODES as readonly string[]).includes(name)) hint = `\`${name}\` belongs inside a \`stage\` block`;
  if (hint === undefined && (PIPELINE_NODES as readonly string[]).includes(name)) hint = `\`${name}\` belongs inside the \`pipeline\` block`;
  hint ??= `expected one of ${known.map((n) => `\`${n}\``).join(', ')}`;
  ctx.diagnostics.error(ctx.locator.spanOf(node.name), 'unknown-node', `unknown node \`${name}\` ${where}`, hint);
}

function readPipelineNode(node: Node, ctx: ReadContext, spec: PipelineSpec): Span {
  const reader = new NodeReader(node, ctx, []);
  spec.span = reader.span;
  const name = reader.requireString(0, 'a name');
  if (name) spec.name = name.value;
  reader.noArgumentsAfter(1);
  const seen = new Map<string, Span>();
  for (const child of reader.children(false, '')) {
    const childName = child.getName();
    if (childName === 'on') readTrigger(child, ctx, spec.triggers);
    else if (childName === 'group') readGroup(child, ctx, spec, seen);
    else if (childName === 'concurrency' || childName === 'timeout') {
      const childReader = new NodeReader(child, ctx, []);
      if (reportDuplicate(childReader, seen, 'the `pipeline` block')) continue;
      childReader.noChildren();
      childReader.noArgumentsAfter(1);
      if (childName === 'concurrency') spec.concurrency = childReader.requireInteger(0, 1, MAX_CONCURRENCY);
      else spec.timeoutMs = readDuration(childReader);
    } else reportUnknownNode(child, ctx, PIPELINE_NODES, 'in the `pipeline` block');
  }
  return reader.span;
}

function readGroup(node: Node, ctx: ReadContext, spec: PipelineSpec, seen: Map<string, Span>): void {
  const reader = new NodeReader(node, ctx, ['cancel-in-progress']);
  if (reportDuplicate(reader, seen, 'the `pipeline` block')) return;
  reader.noChildren();
  reader.noArgumentsAfter(1);
  const name = reader.requireString(0, 'a group name');
  const cancelInProgress = reader.booleanProperty('cancel-in-progress') ?? false;
  if (name) spec.group = { name: reader.text(name), cancelInProgress, span: reader.span };
}

/** True (after reporting) when this single-valued node was already seen in the same block. */
function reportDuplicate(reader: NodeReader, seen: Map<string, Span>, where: string): boolean {
  const first = seen.get(reader.name);
  if (first) {
    reader.diagnostics.error(reader.span, 'duplicate', `duplicate \`${reader.name}\` in ${where}`, `the first one is at line ${first.line}`);
    return true;
  }
  seen.set(reader.name, reader.span);
  return false;
}

function readTrigger(node: Node, ctx: ReadContext, triggers: TriggerSpec[]): void {
  const reader = new NodeReader(node, ctx, ['branches', 'tags', 'paths', 'cron']);
  reader.noChildren();
  const event = reader.requireString(0, 'an event');
  const branchProperty = reader.stringProperty('branches');
  const tagProperty = reader.stringProperty('tags');
  const pathProperty = reader.stringProperty('paths');
  // Arguments after `paths=` are more path globs; the others more globs of the event's own filter.
  const afterPaths = argumentsAfterProperty(node, 'paths');
  const allArguments = reader.stringArguments(1, 'globs');
  const globArguments = allArguments.filter((argument) => !afterPaths.has(argument.entry));
  const paths = [...(pathProperty ? [pathProperty] : []), ...allArguments.filter((argument) => afterPaths.has(argument.entry))];
  const cron = reader.stringProperty('cron');
  if (event === null) return;
  if (!(TRIGGER_EVENTS as readonly string[]).includes(event.value)) {
    ctx.diagnostics.error(event.span, 'trigger', `unknown trigger event "${event.value}"`, eventHint(event.value));
    return;
  }
  const eventName = event.value as TriggerEvent;
  // Extra arguments are more globs of the event's own filter: tags for "tag", branches otherwise.
  const branches = [...(branchProperty ? [branchProperty] : []), ...(eventName === 'tag' ? [] : globArguments)];
  const tags = [...(tagProperty ? [tagProperty] : []), ...(eventName === 'tag' ? globArguments : [])];
  const trigger: TriggerSpec = {
    event: eventName,
    branches: branches.map((b) => b.value),
    tags: tags.map((t) => t.value),
    paths: paths.map((p) => p.value),
    cron: cron?.value ?? null,
    span: reader.span,
  };
  checkTriggerFilters(trigger, { branches, tags, cron }, reader);
  if (paths.length > 0 && trigger.event !== 'push' && trigger.event !== 'pull_request') {
    reader.diagnostics.error(
      paths[0]!.span,
      'trigger',
      `\`paths\` only applies to \`on "push"\` and \`on "pull_request"\`, not \`on "${trigger.event}"\``,
      'only pushes and pull requests change files',
    );
  }
  triggers.push(trigger);
}

/** The argument entries written after `property=` (up to the next property). */
function argumentsAfterProperty(node: Node, property: string): Set<unknown> {
  const out = new Set<unknown>();
  let inside = false;
  for (const entry of node.entries) {
    const name = entry.getName();
    if (name !== null) inside = name === property;
    else if (inside) out.add(entry);
  }
  return out;
}

/** The closest event and always the whole list: the events are few, and `on "tags"` vs `on "tag"` is easy to miss. */
function eventHint(value: string): string {
  const events = `events are ${TRIGGER_EVENTS.map((e) => `"${e}"`).join(', ')}`;
  const suggestion = didYouMean(value, TRIGGER_EVENTS, (s) => `"${s}"`);
  return suggestion ? `${suggestion} (${events})` : events;
}

function checkTriggerFilters(
  trigger: TriggerSpec,
  filters: { branches: StringValue[]; tags: StringValue[]; cron: StringValue | null },
  reader: NodeReader,
): void {
  const { branches, tags, cron } = filters;
  const diagnostics = reader.diagnostics;
  const branchFiltered = trigger.event === 'push' || trigger.event === 'pull_request';
  if (!branchFiltered && branches.length > 0) {
    const hint = trigger.event === 'tag' ? 'a tag has no branch: filter tags with `tags="v*"`' : 'branch filters apply to "push" and "pull_request"';
    diagnostics.error(branches[0]!.span, 'trigger', `\`on "${trigger.event}"\` takes no branch filter`, hint);
  }
  if (trigger.event !== 'tag' && tags.length > 0) {
    // `on "push" tags=...` would read as "pushes of these tags": a pushed tag is its own event.
    diagnostics.error(
      tags[0]!.span,
      'trigger',
      `\`tags\` only applies to \`on "tag"\`, not \`on "${trigger.event}"\``,
      'a pushed tag is the event "tag": write `on "tag" tags="v*"`',
    );
  }
  if (trigger.event === 'schedule') {
    if (cron === null && reader.property('cron') === undefined) {
      diagnostics.error(reader.span, 'trigger', '`on "schedule"` needs a `cron` property', 'write `on "schedule" cron="0 3 * * *"`');
    }
    const problem = cron ? cronError(cron.value) : null;
    if (problem && cron) diagnostics.error(cron.span, 'cron', problem, 'five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *"');
  } else if (cron) {
    diagnostics.error(cron.span, 'trigger', `\`cron\` only applies to \`on "schedule"\`, not \`on "${trigger.event}"\``);
  }
}

function readDuration(reader: NodeReader): number | null {
  const raw = reader.node.getArgument(0);
  if (typeof raw === 'number') {
    const span = reader.node.getArgumentEntry(0)!.value;
    reader.diagnostics.error(
      reader.spanOf(span),
      'duration',
      `\`${reader.name}\` takes a duration as a string, got number ${raw}`,
      `add a unit, e.g. "${raw}s" or "${raw}m"`,
    );
    return null;
  }
  const value = reader.requireString(0, 'a duration');
  if (value === null) return null;
  const result = parseDuration(value.value);
  if ('error' in result) {
    reader.diagnostics.error(value.span, 'duration', result.error, DURATION_HINT);
    return null;
  }
  return result.ms;
}

function readEnvBlock(node: Node, ctx: ReadContext, env: EnvEntry[]): void {
  const reader = new NodeReader(node, ctx, []);
  reader.noArgumentsAfter(0);
  for (const child of reader.children(true, 'env { NAME "value"; }')) {
    const entryReader = new NodeReader(child, ctx, []);
    entryReader.noChildren();
    entryReader.noArgumentsAfter(1);
    if (!ENV_NAME.test(entryReader.name)) {
      ctx.diagnostics.error(
        entryReader.span,
        'env',
        `invalid environment variable name \`${entryReader.name}\``,
        'use letters, digits and `_`, not starting with a digit',
      );
      continue;
    }
    if (entryReader.name.startsWith(RESERVED_ENV_PREFIX)) {
      ctx.diagnostics.error(
        entryReader.span,
        'env',
        `\`${entryReader.name}\`: names starting with ${RESERVED_ENV_PREFIX} are reserved for BuildIt's own variables`,
        'rename the variable',
      );
      continue;
    }
    const duplicate = env.find((entry) => entry.name === entryReader.name);
    if (duplicate) {
      ctx.diagnostics.error(
        entryReader.span,
        'duplicate',
        `duplicate environment variable \`${entryReader.name}\``,
        `the first one is at line ${duplicate.span.line}`,
      );
      continue;
    }
    const value = entryReader.requireString(0, 'a value');
    if (value) env.push({ name: entryReader.name, value: entryReader.text(value), span: entryReader.span });
  }
}

function readVariable(node: Node, ctx: ReadContext, variables: VariableSpec[]): void {
  const reader = new NodeReader(node, ctx, ['default', 'description']);
  reader.noChildren();
  reader.noArgumentsAfter(1);
  const name = reader.requireString(0, 'a name');
  const defaultValue = reader.stringProperty('default');
  const description = reader.stringProperty('description');
  if (name === null) return;
  if (!IDENTIFIER.test(name.value)) {
    ctx.diagnostics.error(name.span, 'variable', `invalid variable name "${name.value}"`, 'use letters, digits, `_` and `-`, starting with a letter or `_`');
    return;
  }
  const duplicate = variables.find((v) => v.name === name.value);
  if (duplicate) {
    ctx.diagnostics.error(name.span, 'duplicate', `duplicate variable "${name.value}"`, `the first one is at ${placeOf(duplicate.span, name.span)}`);
    return;
  }
  variables.push({ name: name.value, default: defaultValue?.value ?? null, description: description?.value ?? null, span: reader.span });
}

function readCacheDeclaration(node: Node, ctx: ReadContext, caches: CacheSpec[]): void {
  const reader = new NodeReader(node, ctx, ['key', 'path']);
  reader.noChildren();
  const name = reader.requireString(0, 'a name');
  const key = reader.requireStringProperty('key', '"npm-${git.branch}"');
  const pathProperty = reader.stringProperty('path');
  const paths = [...(pathProperty ? [pathProperty] : []), ...reader.stringArguments(1, 'paths')];
  if (pathProperty === null && paths.length === 0 && reader.property('path') === undefined) {
    ctx.diagnostics.error(reader.span, 'missing-property', '`cache` needs a `path` property', 'write `path="/root/.npm"`');
  }
  if (name === null || key === null) return;
  const duplicate = caches.find((c) => c.name === name.value);
  if (duplicate) {
    ctx.diagnostics.error(name.span, 'duplicate', `duplicate cache "${name.value}"`, `the first one is at ${placeOf(duplicate.span, name.span)}`);
    return;
  }
  caches.push({ name: name.value, key: reader.text(key), paths: paths.map((p) => reader.text(p)), span: reader.span });
}

function emptyStage(name: string, span: Span): StageSpec {
  return {
    name,
    span,
    needs: [],
    outputs: [],
    kind: null,
    image: null,
    commands: [],
    env: [],
    secrets: [],
    caches: [],
    artifacts: [],
    services: [],
    matrix: [],
    matrixOptions: { failFast: false, maxParallel: null, include: [], exclude: [] },
    when: [],
    status: 'success',
    statusSpan: null,
    timeoutMs: null,
    retry: 0,
    allowFailure: false,
    approval: false,
    executor: null,
    lock: null,
    build: null,
    deploy: null,
    stack: null,
  };
}

/** `optional` is only a property of `needs` children; written anywhere else in a stage it gets this hint. */
const MISPLACED_IN_STAGE = { optional: '`optional` marks a need: write `needs "NAME" optional=#true` inside the stage block' };

/** `stage`, `template` and `defaults` blocks: read alike into drafts, merged into stages at the end (templates.ts). */
function readBlock(node: Node, ctx: ReadContext, state: PipelineState, kind: 'stage' | 'template' | 'defaults', file: string): void {
  const properties = kind === 'defaults' ? [] : ['needs', 'extends'];
  const reader = new NodeReader(node, ctx, properties, MISPLACED_IN_STAGE);
  const name = kind === 'defaults' ? null : reader.requireString(0, 'a name');
  reader.noArgumentsAfter(kind === 'defaults' ? 0 : 1);
  const stage = emptyStage(name?.value ?? '', name?.span ?? reader.span);
  const needsProperty = reader.stringProperty('needs');
  if (needsProperty) addNeed(stage, needsProperty, false);
  const extendsProperty = reader.stringProperty('extends');
  if (name && !STAGE_NAME.test(name.value)) {
    ctx.diagnostics.error(name.span, 'stage-name', `invalid ${kind} name "${name.value}"`, 'use letters, digits, `_`, `-` and `.`');
  }
  const kindNodes: NodeReader[] = [];
  const seen = new Map<string, Span>();
  const declared = new Map<string, Span>();
  const example = (): string =>
    kind === 'stage' ? `stage "${name?.value ?? 'name'}" { run "..." }` : `${kind}${name ? ` "${name.value}"` : ''} { timeout "20m"; }`;
  for (const child of reader.children(true, example)) {
    if (kind === 'defaults' && !(DEFAULTS_NODES as readonly string[]).includes(child.getName())) {
      reportUnknownNode(child, ctx, DEFAULTS_NODES, 'in `defaults` (it holds what applies to every stage of the file)');
      continue;
    }
    if (!declared.has(child.getName())) declared.set(child.getName(), ctx.locator.spanOf(child.name));
    readStageChild(child, ctx, stage, seen, kindNodes);
  }
  pickKind(stage, kindNodes);
  const draft: StageDraft = {
    stage,
    declared,
    extends: extendsProperty ? { name: extendsProperty.value, span: extendsProperty.span } : null,
    file,
    reportNoKind:
      kind === 'stage' && reader.node.children !== null
        ? () => reader.diagnostics.error(stage.span, 'stage-kind', `stage "${stage.name}" has nothing to do`, 'add `run "..."`, `build`, `deploy` or `stack`')
        : null,
  };
  if (kind === 'defaults') state.templates.addDefaults(draft, reader.span, ctx.diagnostics);
  else if (name === null) return;
  else if (kind === 'template') state.templates.addTemplate(draft, ctx.diagnostics);
  else state.drafts.push(draft);
}

/** A stage needed both ways is a required need: the optional one would only add a way for it to run without. */
function addNeed(stage: StageSpec, need: StringValue, optional: boolean): void {
  const existing = stage.needs.find((n) => n.name === need.value);
  if (existing === undefined) stage.needs.push({ name: need.value, span: need.span, optional });
  else if (!optional) existing.optional = false;
}

/** The block's kind is its first kind node; another kind in the same block is an error. */
function pickKind(stage: StageSpec, kindNodes: NodeReader[]): void {
  const first = kindNodes[0];
  if (first === undefined) return;
  stage.kind = first.name as StageSpec['kind'];
  for (const other of kindNodes) {
    if (other.name === first.name) continue;
    other.diagnostics.error(
      other.span,
      'stage-kind',
      `\`${other.name}\` cannot be combined with \`${first.name}\` in one stage`,
      'a stage does one thing: split it into two stages and connect them with `needs`',
    );
  }
}

function readStageChild(child: Node, ctx: ReadContext, stage: StageSpec, seen: Map<string, Span>, kindNodes: NodeReader[]): void {
  const name = child.getName();
  if (!STAGE_NODE_NAMES.has(name)) {
    reportUnknownNode(child, ctx, STAGE_NODES, `in stage "${stage.name}"`);
    return;
  }
  const properties = name === 'when' ? whenProperties(child.entries.map((entry) => entry.getName())) : (STAGE_PROPERTIES[name] ?? []);
  const reader = new NodeReader(child, ctx, properties, MISPLACED_IN_STAGE);
  if (SINGLE_STAGE_NODES.has(name) && reportDuplicate(reader, seen, `stage "${stage.name}"`)) return;
  if (name === 'run' || name === 'build' || name === 'deploy' || name === 'stack') kindNodes.push(reader);
  if (name !== 'service' && name !== 'env' && name !== 'matrix') reader.noChildren();
  STAGE_CHILD_READERS[name]!(reader, stage, ctx);
}

const STAGE_PROPERTIES: Record<string, readonly string[]> = {
  needs: ['optional'],
  matrix: MATRIX_PROPERTIES,
  service: ['image'],
  build: ['context', 'dockerfile', 'tag'],
  deploy: ['environment', 'service'],
  stack: ['action'],
};

type StageChildReader = (reader: NodeReader, stage: StageSpec, ctx: ReadContext) => void;

const STAGE_CHILD_READERS: Record<string, StageChildReader> = {
  needs(reader, stage) {
    if (reader.argumentCount === 0) reader.requireString(0, 'stage names');
    const optional = reader.booleanProperty('optional') ?? false;
    for (const need of reader.stringArguments(0, 'stage names')) addNeed(stage, need, optional);
  },
  outputs(reader, stage) {
    if (reader.argumentCount === 0) reader.requireString(0, 'output names');
    for (const output of reader.stringArguments(0, 'output names')) {
      if (!ENV_NAME.test(output.value)) {
        reader.diagnostics.error(output.span, 'outputs', `invalid output name "${output.value}"`, 'use letters, digits and `_`, not starting with a digit');
      } else if (stage.outputs.some((o) => o.name === output.value)) {
        reader.diagnostics.error(output.span, 'duplicate', `duplicate output "${output.value}" in stage "${stage.name}"`);
      } else stage.outputs.push({ name: output.value, span: output.span });
    }
  },
  image(reader, stage) {
    reader.noArgumentsAfter(1);
    const image = reader.requireString(0, 'an image');
    if (image) stage.image = reader.text(image);
  },
  run(reader, stage) {
    reader.noArgumentsAfter(1);
    const command = reader.requireString(0, 'a command');
    if (command) stage.commands.push(reader.text(command));
  },
  env(reader, stage, ctx) {
    readEnvBlock(reader.node, ctx, stage.env);
  },
  secret(reader, stage) {
    if (reader.argumentCount === 0) reader.requireString(0, 'a secret name');
    for (const secret of reader.stringArguments(0, 'secret names')) addSecret(reader, stage.secrets, secret);
  },
  cache(reader, stage) {
    if (reader.argumentCount === 0) reader.requireString(0, 'a cache name');
    for (const cache of reader.stringArguments(0, 'cache names')) stage.caches.push({ name: cache.value, span: cache.span });
  },
  artifacts(reader, stage) {
    if (reader.argumentCount === 0) reader.requireString(0, 'a glob');
    for (const glob of reader.stringArguments(0, 'globs')) stage.artifacts.push(reader.text(glob));
  },
  service(reader, stage, ctx) {
    const service = readService(reader, ctx, stage);
    if (service) stage.services.push(service);
  },
  matrix(reader, stage, ctx) {
    readMatrix(reader, ctx, stage);
  },
  when(reader, stage) {
    readWhen(reader, stage, eventHint);
  },
  timeout(reader, stage) {
    reader.noArgumentsAfter(1);
    stage.timeoutMs = readDuration(reader);
  },
  retry(reader, stage) {
    reader.noArgumentsAfter(1);
    stage.retry = reader.requireInteger(0, 0, MAX_RETRY) ?? 0;
  },
  'allow-failure'(reader, stage) {
    stage.allowFailure = reader.flag();
  },
  approval(reader, stage) {
    stage.approval = reader.flag();
  },
  executor(reader, stage) {
    reader.noArgumentsAfter(1);
    const executor = reader.requireString(0, 'an executor name');
    if (executor === null) return;
    if ((EXECUTORS as readonly string[]).includes(executor.value)) stage.executor = executor.value as ExecutorName;
    else {
      const hint = didYouMean(executor.value, EXECUTORS, (s) => `"${s}"`) ?? `executors are ${EXECUTORS.map((e) => `"${e}"`).join(', ')}`;
      reader.diagnostics.error(executor.span, 'executor', `unknown executor "${executor.value}"`, hint);
    }
  },
  lock(reader, stage) {
    reader.noArgumentsAfter(1);
    const name = reader.requireString(0, 'a lock name');
    if (name && name.value.trim() === '')
      reader.diagnostics.error(name.span, 'lock', 'the lock name is empty', 'name what the stage needs alone, e.g. `lock "production"`');
    else if (name) stage.lock = reader.text(name);
  },
  build(reader, stage) {
    reader.noArgumentsAfter(0);
    const tag = reader.requireStringProperty('tag', '"app:${git.short_sha}"');
    const context = reader.stringProperty('context');
    const dockerfile = reader.stringProperty('dockerfile');
    if (tag === null) return;
    stage.build = {
      context: context ? reader.text(context) : literal('.', reader.span),
      dockerfile: dockerfile ? reader.text(dockerfile) : literal('Dockerfile', reader.span),
      tag: reader.text(tag),
      span: reader.span,
    };
  },
  deploy(reader, stage) {
    reader.noArgumentsAfter(0);
    const environment = reader.requireStringProperty('environment', '"staging"');
    const service = reader.requireStringProperty('service', '"web"');
    if (environment && service) stage.deploy = { environment: reader.text(environment), service: reader.text(service), span: reader.span };
  },
  stack(reader, stage) {
    reader.noArgumentsAfter(1);
    const name = reader.requireString(0, 'a stack name');
    const action = reader.stringProperty('action');
    if (action && !(STACK_ACTIONS as readonly string[]).includes(action.value)) {
      const hint = didYouMean(action.value, STACK_ACTIONS, (s) => `"${s}"`) ?? `actions are ${STACK_ACTIONS.map((a) => `"${a}"`).join(', ')}`;
      reader.diagnostics.error(action.span, 'stack', `unknown stack action "${action.value}"`, hint);
      return;
    }
    if (name) stage.stack = { name: reader.text(name), action: (action?.value as StackAction | undefined) ?? 'plan', span: reader.span };
  },
};

function literal(value: string, span: Span): Text {
  return { value, span, refSpans: [] };
}

function addSecret(reader: NodeReader, secrets: Named[], secret: StringValue): void {
  if (!ENV_NAME.test(secret.value)) {
    reader.diagnostics.error(
      secret.span,
      'secret',
      `invalid secret name "${secret.value}"`,
      'secrets are injected as environment variables: use letters, digits and `_`',
    );
    return;
  }
  if (secret.value.startsWith(RESERVED_ENV_PREFIX)) {
    reader.diagnostics.error(
      secret.span,
      'secret',
      `secret "${secret.value}": names starting with ${RESERVED_ENV_PREFIX} are reserved for BuildIt's own variables`,
      'secrets are injected as environment variables of the same name: rename the secret',
    );
    return;
  }
  if (!secrets.some((s) => s.name === secret.value)) secrets.push({ name: secret.value, span: secret.span });
}

function readService(reader: NodeReader, ctx: ReadContext, stage: StageSpec): ServiceSpec | null {
  reader.noArgumentsAfter(1);
  const name = reader.requireString(0, 'a name');
  const image = reader.requireStringProperty('image', '"postgres:16"');
  const env: EnvEntry[] = [];
  for (const child of reader.children(false, '')) {
    if (child.getName() === 'env') readEnvBlock(child, ctx, env);
    else reportUnknownNode(child, ctx, ['env'], `in service "${name?.value ?? ''}"`);
  }
  if (name === null || image === null) return null;
  if (!IDENTIFIER.test(name.value)) {
    ctx.diagnostics.error(
      name.span,
      'service',
      `invalid service name "${name.value}"`,
      "the name is the service's host name: use letters, digits, `_` and `-`",
    );
    return null;
  }
  const duplicate = stage.services.find((s) => s.name === name.value);
  if (duplicate) {
    ctx.diagnostics.error(
      name.span,
      'duplicate',
      `duplicate service "${name.value}" in stage "${stage.name}"`,
      `the first one is at line ${duplicate.span.line}`,
    );
    return null;
  }
  return { name: name.value, image: reader.text(image), env, span: reader.span };
}
