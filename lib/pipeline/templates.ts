/**
 * Reuse inside the language: `template "NAME" { ... }` blocks that stages (and other templates) name
 * with `extends="NAME"`, and a file's `defaults { ... }`, which every stage of that file starts from.
 *
 * Blocks are read into drafts that remember which nodes they wrote. A stage is then the merge of, in
 * order, its file's defaults, its template chain (the farthest first) and its own block: a
 * single-valued node (image, timeout, matrix, `when` ...) comes from the nearest block that wrote it,
 * a kind (`run`, `build`, ...) likewise as a whole, and lists add up (env, secrets, caches, artifacts,
 * services, needs, outputs), the nearer block winning for a name set in both.
 */
import { didYouMean, placeOf, type DiagnosticCollector, type Span } from './diagnostics';
import type { StageSpec } from './spec-types';

export interface StageDraft {
  stage: StageSpec;
  /** The child nodes written in this block, by name: where the first of each is. */
  declared: Map<string, Span>;
  extends: { name: string; span: Span } | null;
  /** The file the block is in (its defaults apply to its stages). */
  file: string;
  /** Reports "nothing to do" for a stage with a block but, after merging, no kind. */
  reportNoKind: (() => void) | null;
}

/** Single-valued nodes and the fields they fill. `when` is taken as a whole when a block has trigger tests. */
const SINGLE_NODES: ReadonlyArray<[string, ReadonlyArray<keyof StageSpec>]> = [
  ['image', ['image']],
  ['matrix', ['matrix', 'matrixOptions']],
  ['timeout', ['timeoutMs']],
  ['retry', ['retry']],
  ['allow-failure', ['allowFailure']],
  ['approval', ['approval']],
  ['executor', ['executor']],
  ['lock', ['lock']],
];

/** What `defaults` may set: what applies to every stage alike. */
export const DEFAULTS_NODES = ['image', 'executor', 'env', 'secret', 'cache', 'timeout', 'retry', 'allow-failure'] as const;

/**
 * Nodes about a container or its attempts, which a `stack` stage does not have: it only queues a stack run and
 * waits (terraform runs on a stack worker with the stack's own variables). Written in the stage or its
 * templates they are errors; from `defaults` (meant for the file's container stages) they are left out.
 */
const NOT_FOR_STACK_STAGES = ['image', 'executor', 'env', 'secret', 'cache', 'artifacts', 'service', 'outputs', 'retry'] as const;
/** What of `defaults` a stack stage takes. */
const STACK_STAGE_DEFAULTS = new Set(['timeout', 'allow-failure']);

export class TemplateRegistry {
  private readonly templates = new Map<string, StageDraft>();
  private readonly defaults = new Map<string, StageDraft>();
  private readonly resolved = new Map<string, StageDraft | null>();

  constructor(private readonly diagnostics: DiagnosticCollector) {}

  addTemplate(draft: StageDraft, diagnostics: DiagnosticCollector): void {
    const first = this.templates.get(draft.stage.name);
    if (first) {
      diagnostics.error(
        draft.stage.span,
        'duplicate',
        `duplicate template "${draft.stage.name}"`,
        `the first one is at ${placeOf(first.stage.span, draft.stage.span)}`,
      );
      return;
    }
    this.templates.set(draft.stage.name, draft);
  }

  addDefaults(draft: StageDraft, span: Span, diagnostics: DiagnosticCollector): void {
    const first = this.defaults.get(draft.file);
    if (first) {
      diagnostics.error(span, 'duplicate', 'duplicate `defaults` in this file', `the first one is at ${placeOf(first.stage.span, span)}`);
      return;
    }
    this.defaults.set(draft.file, draft);
  }

  /** The stage as written plus its file's defaults and its templates (see the header). */
  resolveStage(draft: StageDraft): StageSpec {
    const chain = this.chainOf(draft, []);
    const own = chain ? merge(chain, draft) : draft;
    let defaults = this.defaults.get(draft.file) ?? null;
    if (defaults && own.stage.kind === 'stack') defaults = stackStageDefaults(defaults);
    const stage = defaults ? merge(defaults, own).stage : own.stage;
    if (stage.kind === null) draft.reportNoKind?.();
    if (stage.kind === 'stack') this.reportNotForStacks(own);
    return stage;
  }

  private reportNotForStacks(own: StageDraft): void {
    for (const node of NOT_FOR_STACK_STAGES) {
      const span = own.declared.get(node);
      if (span === undefined) continue;
      this.diagnostics.error(
        span,
        'stack',
        `\`${node}\` does not apply to stack stage "${own.stage.name}"`,
        'a stack stage runs no container: it queues a run of the stack and waits for it; put this in a `run` stage that needs it, or remove it',
      );
    }
  }

  /** The merged templates `draft` extends, or null when it extends none (or a broken chain, reported). */
  private chainOf(draft: StageDraft, path: string[]): StageDraft | null {
    if (draft.extends === null) return null;
    const { name, span } = draft.extends;
    if (path.includes(name)) {
      this.diagnostics.error(
        span,
        'extends',
        `template cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`,
        'a template cannot extend itself, directly or not',
      );
      return null;
    }
    if (this.resolved.has(name) && path.length === 0) return this.resolved.get(name)!;
    const template = this.templates.get(name);
    if (template === undefined) {
      this.diagnostics.error(
        span,
        'extends',
        `unknown template "${name}"`,
        didYouMean(name, this.templates.keys(), (s) => `"${s}"`) ?? 'declare it with `template "NAME" { ... }` (in this file or an included one)',
      );
      return null;
    }
    const parent = this.chainOf(template, [...path, name]);
    const result = parent ? merge(parent, template) : template;
    if (path.length === 0) this.resolved.set(name, result);
    return result;
  }
}

/** `own` over `base` (see the header); neither is changed. */
function merge(base: StageDraft, own: StageDraft): StageDraft {
  const stage: StageSpec = { ...own.stage };
  const target = stage as unknown as Record<string, unknown>;
  for (const [node, fields] of SINGLE_NODES) {
    if (own.declared.has(node) || !base.declared.has(node)) continue;
    for (const field of fields) target[field] = base.stage[field];
  }
  if (own.stage.when.length === 0) stage.when = base.stage.when;
  if (own.stage.statusSpan === null) {
    stage.status = base.stage.status;
    stage.statusSpan = base.stage.statusSpan;
  }
  if (own.stage.kind === null) {
    stage.kind = base.stage.kind;
    stage.commands = base.stage.commands;
    stage.build = base.stage.build;
    stage.deploy = base.stage.deploy;
    stage.stack = base.stage.stack;
  }
  stage.env = byName(base.stage.env, own.stage.env);
  stage.services = byName(base.stage.services, own.stage.services);
  stage.secrets = byName(base.stage.secrets, own.stage.secrets);
  stage.caches = byName(base.stage.caches, own.stage.caches);
  stage.outputs = byName(base.stage.outputs, own.stage.outputs);
  stage.needs = byName(base.stage.needs, own.stage.needs);
  stage.artifacts = [...base.stage.artifacts.filter((a) => !own.stage.artifacts.some((o) => o.value === a.value)), ...own.stage.artifacts];
  return { ...own, stage, declared: new Map([...base.declared, ...own.declared]) };
}

/** The part of a file's `defaults` a stack stage takes (see NOT_FOR_STACK_STAGES). */
function stackStageDefaults(defaults: StageDraft): StageDraft {
  const declared = new Map([...defaults.declared].filter(([node]) => STACK_STAGE_DEFAULTS.has(node)));
  return { ...defaults, declared, stage: { ...defaults.stage, env: [], secrets: [], caches: [] } };
}

/** The base's entries whose name the own list does not set, then the own list. */
function byName<T extends { name: string }>(base: T[], own: T[]): T[] {
  if (base.length === 0) return own;
  const names = new Set(own.map((entry) => entry.name));
  return [...base.filter((entry) => !names.has(entry.name)), ...own];
}
