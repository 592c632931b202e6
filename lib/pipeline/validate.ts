/**
 * Checks across the whole spec, after parsing: stage names and `needs`, cycles, images, caches,
 * matrix size and every `${...}` reference. Each check reports into the collector and goes on.
 */
import { didYouMean, placeOf, type DiagnosticCollector, type Span } from './diagnostics';
import { findCycles } from './graph';
import { FIXED_KEYS, outputReference, parseTemplate, type Reference, type TemplatePart } from './interpolate';
import { pathProblem } from './paths';
import { envNamePart, RESERVED_ENV_PREFIX, scriptVariableName, singleQuotedOpenings } from './script-env';
import type { CacheSpec, EnvEntry, PipelineSpec, StageSpec, Text } from './spec-types';
import { combinationBound } from './matrix';

export const MAX_MATRIX_COMBINATIONS = 256;
/**
 * Stages of one run, matrices expanded (stages skipped by `when` count: they stay in the plan). Far
 * above real pipelines, and it keeps every trigger fast: a plan of 76,800 stages once took the web
 * process to 2.8 GB. GitHub Actions caps a matrix at 256 jobs.
 */
export const MAX_PLANNED_STAGES = 1000;
/** Stage kinds the engine does not run yet: such a stage fails when it runs (see docs/pipeline-language.md). */
export const UNSUPPORTED_KINDS = new Set(['build', 'deploy']);

export function unsupportedKindReason(kind: string): string {
  return `stage kind "${kind}" is not supported yet`;
}

export interface ValidateOptions {
  /** Image for container stages that name none; without it such stages are an error. */
  defaultImage?: string;
  /** The slugs of the stacks of the tenant the pipeline runs in (the server knows them): a `stack` stage naming another is an error. */
  stacks?: readonly string[];
}

export function validatePipeline(spec: PipelineSpec, diagnostics: DiagnosticCollector, options: ValidateOptions = {}): void {
  const stagesByName = checkStageNames(spec, diagnostics);
  checkNeeds(spec, stagesByName, diagnostics);
  checkCycles(spec, stagesByName, diagnostics);
  const declaredCaches = spec.caches.map((cache) => cache.name);
  for (const stage of spec.stages) {
    checkImage(stage, diagnostics, options);
    checkMatrixSize(stage, diagnostics);
    checkStageCaches(declaredCaches, stage, diagnostics);
    checkArtifactPaths(stage, diagnostics);
    warnUnreachableWhen(spec, stage, diagnostics);
    checkWhenVariables(spec, stage, diagnostics);
    checkWhenOutputs(spec, stage, diagnostics);
    warnUnsupportedKind(stage, diagnostics);
    checkStackName(stage, diagnostics, options.stacks);
    checkScriptNames(stage.matrix, 'matrix key', 'BUILDIT_MATRIX_', diagnostics);
  }
  checkScriptNames(
    spec.variables.map((v) => ({ key: v.name, span: v.span })),
    'variable',
    'BUILDIT_VAR_',
    diagnostics,
  );
  checkRunSize(spec, diagnostics);
  for (const cache of spec.caches) checkPaths(cache.paths, `path of cache "${cache.name}"`, { relative: false }, diagnostics);
  new ReferenceChecker(spec, diagnostics).checkAll();
  warnUnusedCaches(spec, diagnostics);
}

/** Planned stages of one run: each stage once per matrix combination. */
export function plannedStageCount(spec: PipelineSpec): number {
  return spec.stages.reduce((sum, stage) => sum + combinationBound(stage), 0);
}

function checkRunSize(spec: PipelineSpec, diagnostics: DiagnosticCollector): void {
  const count = plannedStageCount(spec);
  if (count <= MAX_PLANNED_STAGES) return;
  diagnostics.error(
    spec.span,
    'run-size',
    `the pipeline plans ${count} stages per run (matrices expanded); at most ${MAX_PLANNED_STAGES} are allowed`,
    'split it into several pipelines, or make the matrices smaller',
  );
}

function checkArtifactPaths(stage: StageSpec, diagnostics: DiagnosticCollector): void {
  checkPaths(stage.artifacts, `artifact path of stage "${stage.name}"`, { relative: true }, diagnostics);
}

function checkPaths(paths: Text[], what: string, options: { relative: boolean }, diagnostics: DiagnosticCollector): void {
  for (const text of paths) {
    const problem = pathProblem(text.value, options);
    if (problem)
      diagnostics.error(
        text.span,
        'path',
        `${what} ${JSON.stringify(text.value)} ${problem}`,
        options.relative ? 'artifacts are files of the workspace: write e.g. `dist/**`' : undefined,
      );
  }
}

function warnUnsupportedKind(stage: StageSpec, diagnostics: DiagnosticCollector): void {
  const node = stage.build ?? stage.deploy ?? stage.stack;
  if (node && stage.kind && UNSUPPORTED_KINDS.has(stage.kind)) {
    diagnostics.warning(node.span, 'unsupported', unsupportedKindReason(stage.kind), 'such a stage fails when the run reaches it; use a `run` stage for now');
  }
  if (stage.executor === 'kubernetes') {
    diagnostics.warning(
      stage.span,
      'unsupported',
      'executor "kubernetes" is not supported yet',
      'such a stage fails when the run reaches it; use `executor "docker"` for now',
    );
  }
}

/** A stack name without `${...}` is known now; one with it is checked when the stage runs. */
function checkStackName(stage: StageSpec, diagnostics: DiagnosticCollector, stacks: readonly string[] | undefined): void {
  const name = stage.stack?.name;
  if (stacks === undefined || name === undefined || name.value.includes('${') || stacks.includes(name.value)) return;
  const hint =
    didYouMean(name.value, stacks, (s) => `"${s}"`) ??
    (stacks.length === 0
      ? 'this tenant has no stacks yet: create it first (`buildit stacks create`, or the Stacks page)'
      : `stacks are ${stacks
          .slice(0, 8)
          .map((s) => `"${s}"`)
          .join(', ')}`);
  diagnostics.error(name.span, 'stack', `stage "${stage.name}" names stack "${name.value}", which does not exist in this tenant`, hint);
}

/** `a-b` and `a_b` would be the same environment variable of a run script (see script-env.ts). */
function checkScriptNames(names: Array<{ key: string; span: Span }>, what: string, prefix: string, diagnostics: DiagnosticCollector): void {
  const seen = new Map<string, string>();
  for (const { key, span } of names) {
    const envName = prefix + envNamePart(key);
    const first = seen.get(envName);
    if (first === undefined) seen.set(envName, key);
    else if (first !== key)
      diagnostics.error(
        span,
        'env',
        `${what} "${key}" and ${what} "${first}" would both be the environment variable ${envName} in run scripts`,
        `rename one of them`,
      );
  }
}

function checkStageNames(spec: PipelineSpec, diagnostics: DiagnosticCollector): Map<string, StageSpec> {
  const byName = new Map<string, StageSpec>();
  for (const stage of spec.stages) {
    const first = byName.get(stage.name);
    if (first) diagnostics.error(stage.span, 'duplicate', `duplicate stage "${stage.name}"`, `the first one is at ${placeOf(first.span, stage.span)}`);
    else byName.set(stage.name, stage);
  }
  return byName;
}

function checkNeeds(spec: PipelineSpec, byName: Map<string, StageSpec>, diagnostics: DiagnosticCollector): void {
  for (const stage of spec.stages) {
    for (const need of stage.needs) {
      if (byName.has(need.name)) continue;
      const hint =
        didYouMean(need.name, byName.keys(), (s) => `"${s}"`) ??
        (byName.size === 0
          ? undefined
          : `stages are ${[...byName.keys()]
              .slice(0, 8)
              .map((s) => `"${s}"`)
              .join(', ')}`);
      diagnostics.error(need.span, 'needs', `stage "${stage.name}" needs "${need.name}", which does not exist`, hint);
    }
  }
}

function checkCycles(spec: PipelineSpec, byName: Map<string, StageSpec>, diagnostics: DiagnosticCollector): void {
  const stages = [...byName.values()];
  const index = new Map(stages.map((stage, i) => [stage.name, i]));
  const edges = stages.map((stage) => {
    const needs: number[] = [];
    for (const need of stage.needs) if (index.has(need.name)) needs.push(index.get(need.name)!);
    return needs;
  });
  for (const cycle of findCycles(edges)) {
    const names = cycle.map((i) => stages[i]!.name);
    const first = stages[cycle[0]!]!;
    const next = names[1] ?? names[0]!;
    const span = first.needs.find((need) => need.name === next)?.span ?? first.span;
    diagnostics.error(
      span,
      'cycle',
      `dependency cycle: ${[...names, names[0]!].join(' -> ')}`,
      '`a -> b` means stage a needs stage b: remove one of these needs',
    );
  }
}

function checkImage(stage: StageSpec, diagnostics: DiagnosticCollector, options: ValidateOptions): void {
  if (stage.kind !== 'run' || stage.image !== null || stage.executor === 'local' || options.defaultImage !== undefined) return;
  diagnostics.error(
    stage.span,
    'image',
    `stage "${stage.name}" runs in a container but has no \`image\``,
    'add e.g. `image "node:20"`, or `executor "local"` to run on the host',
  );
}

function checkMatrixSize(stage: StageSpec, diagnostics: DiagnosticCollector): void {
  if (stage.matrix.length === 0) return;
  const combinations = combinationBound(stage);
  if (combinations <= MAX_MATRIX_COMBINATIONS) return;
  diagnostics.error(
    stage.matrix[0]!.span,
    'matrix',
    `the matrix of stage "${stage.name}" has ${combinations} combinations; at most ${MAX_MATRIX_COMBINATIONS} are allowed`,
    'split the stage or drop some values',
  );
}

function checkStageCaches(declared: string[], stage: StageSpec, diagnostics: DiagnosticCollector): void {
  for (const cache of stage.caches) {
    if (declared.includes(cache.name)) continue;
    const hint = didYouMean(cache.name, declared, (s) => `"${s}"`) ?? `declare it at the top level: \`cache "${cache.name}" key="..." path="..."\``;
    diagnostics.error(cache.span, 'cache', `stage "${stage.name}" uses cache "${cache.name}", which is not declared`, hint);
  }
}

/** `when event="manual"` in a pipeline without `on "manual"` can never hold. */
function warnUnreachableWhen(spec: PipelineSpec, stage: StageSpec, diagnostics: DiagnosticCollector): void {
  for (const when of stage.when) {
    const event = when.event;
    if (!event || spec.triggers.length === 0 || spec.triggers.some((t) => t.event === event)) continue;
    const never = stage.when.length === 1 ? `stage "${stage.name}" never runs` : `this \`when\` of stage "${stage.name}" never holds`;
    diagnostics.warning(
      when.span,
      'unreachable',
      `${never}: the pipeline has no \`on "${event}"\` trigger`,
      `add \`on "${event}"\` to the \`pipeline\` block, or change the \`when\``,
    );
  }
}

/** `when var.NAME="..."` must name a declared variable. */
function checkWhenVariables(spec: PipelineSpec, stage: StageSpec, diagnostics: DiagnosticCollector): void {
  const declared = spec.variables.map((v) => v.name);
  for (const when of stage.when) {
    for (const condition of when.variables) {
      if (declared.includes(condition.name)) continue;
      diagnostics.error(
        condition.span,
        'when',
        `\`when var.${condition.name}\`: no variable "${condition.name}" is declared`,
        didYouMean(condition.name, declared, (s) => `\`var.${s}\``) ?? `declare it: \`variable "${condition.name}" default="..."\``,
      );
    }
  }
}

/** `when needs.STAGE.outputs.NAME="..."`: the same rules as `${needs.STAGE.outputs.NAME}`. */
function checkWhenOutputs(spec: PipelineSpec, stage: StageSpec, diagnostics: DiagnosticCollector): void {
  for (const when of stage.when) {
    for (const condition of when.outputs) {
      const written = `\`when needs.${condition.stage}.outputs.${condition.output}\``;
      const problem = neededOutputProblem(spec, stage, condition, written, (name) => `\`needs.${condition.stage}.outputs.${name}\``);
      if (problem) diagnostics.error(condition.span, 'when', problem.message, problem.hint);
    }
  }
}

/** An output of another stage read by `stage`: a need of it, without a matrix, that declares the output. */
function neededOutputProblem(
  spec: PipelineSpec,
  stage: StageSpec,
  output: { stage: string; output: string },
  written: string,
  format: (name: string) => string,
): { message: string; hint?: string } | null {
  if (!stage.needs.some((need) => need.name === output.stage)) {
    return { message: `${written}: stage "${stage.name}" does not need "${output.stage}"`, hint: `add \`needs "${output.stage}"\`` };
  }
  const producer = spec.stages.find((s) => s.name === output.stage);
  if (producer === undefined) return null; // reported as an unknown need
  if (producer.matrix.length > 0) {
    return { message: `${written}: stage "${output.stage}" has a matrix, so which combination's output is meant is unclear` };
  }
  if (!producer.outputs.some((o) => o.name === output.output)) {
    const declared = producer.outputs.map((o) => o.name);
    return {
      message: `${written}: stage "${output.stage}" declares no output "${output.output}"`,
      hint: didYouMean(output.output, declared, format) ?? `add \`outputs "${output.output}"\` to stage "${output.stage}"`,
    };
  }
  return null;
}

function warnUnusedCaches(spec: PipelineSpec, diagnostics: DiagnosticCollector): void {
  const used = new Set<string>();
  for (const stage of spec.stages) for (const cache of stage.caches) used.add(cache.name);
  for (const cache of spec.caches) {
    if (!used.has(cache.name))
      diagnostics.warning(
        cache.span,
        'unused',
        `cache "${cache.name}" is declared but no stage uses it`,
        `add \`cache "${cache.name}"\` to a stage, or remove it`,
      );
  }
}

/** Where a template sits decides what it may reference. */
interface Scope {
  stage: StageSpec | null;
  /** Env visible to `${env.X}`: the pipeline env merged with the stage's (stage wins). */
  env: () => ReadonlyMap<string, EnvEntry>;
  inEnv: boolean;
  /** For pipeline-level text checked once: matrix and env depend on the stage and are checked per stage. */
  deferStageRefs: boolean;
  /** For pipeline-level text checked per stage: only the stage-dependent references. */
  onlyStageRefs: boolean;
  /** A `run` script: references become environment variables (script-env.ts). */
  inScript?: boolean;
}

class ReferenceChecker {
  private readonly variables: Set<string>;
  private readonly caches = new Map<string, CacheSpec>();
  private readonly usedVariables = new Set<string>();
  /** Pipeline-level text is checked in every stage; report each of its problems once. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly spec: PipelineSpec,
    private readonly diagnostics: DiagnosticCollector,
  ) {
    this.variables = new Set(spec.variables.map((v) => v.name));
    for (const cache of spec.caches) if (!this.caches.has(cache.name)) this.caches.set(cache.name, cache);
  }

  checkAll(): void {
    const pipelineEnv = new Map(this.spec.env.map((entry) => [entry.name, entry]));
    const top: Scope = { stage: null, env: () => pipelineEnv, inEnv: false, deferStageRefs: true, onlyStageRefs: false };
    for (const entry of this.spec.env) this.check(entry.value, { ...top, inEnv: true });
    for (const cache of this.spec.caches) [cache.key, ...cache.paths].forEach((text) => this.check(text, top));
    // The group name belongs to no stage: matrix and env references have nothing to name there.
    if (this.spec.group) this.check(this.spec.group.name, { ...top, deferStageRefs: false });
    const seen = new Set<string>();
    for (const stage of this.spec.stages) {
      if (seen.has(stage.name)) continue;
      seen.add(stage.name);
      this.checkStage(stage, pipelineEnv);
    }
    for (const stage of this.spec.stages) for (const when of stage.when) for (const condition of when.variables) this.usedVariables.add(condition.name);
    for (const variable of this.spec.variables) {
      if (!this.usedVariables.has(variable.name)) {
        this.diagnostics.warning(
          variable.span,
          'unused',
          `variable "${variable.name}" is declared but never used`,
          `reference it as \`\${var.${variable.name}}\`, or remove it`,
        );
      }
    }
  }

  private checkStage(stage: StageSpec, pipelineEnv: Map<string, EnvEntry>): void {
    // Made only when something asks: most stages have no `${env.X}` to look up.
    let merged: Map<string, EnvEntry> | undefined;
    const env = (): ReadonlyMap<string, EnvEntry> => {
      if (merged === undefined) {
        merged = new Map(pipelineEnv);
        for (const entry of stage.env) merged.set(entry.name, entry);
      }
      return merged;
    };
    const scope: Scope = { stage, env, inEnv: false, deferStageRefs: false, onlyStageRefs: false };
    const envScope: Scope = { ...scope, inEnv: true };
    for (const text of stageTexts(stage)) this.check(text, scope);
    for (const script of stage.commands) this.check(script, { ...scope, inScript: true });
    for (const script of stage.commands) this.warnSingleQuoted(script);
    for (const entry of stage.env) this.check(entry.value, envScope);
    for (const service of stage.services) for (const entry of service.env) this.check(entry.value, scope);
    const pipelineEnvScope: Scope = { ...envScope, onlyStageRefs: true };
    for (const entry of this.spec.env) this.check(entry.value, pipelineEnvScope);
    const cacheScope: Scope = { ...scope, onlyStageRefs: true };
    for (const name of new Set(stage.caches.map((c) => c.name))) {
      const cache = this.caches.get(name);
      if (cache) [cache.key, ...cache.paths].forEach((text) => this.check(text, cacheScope));
    }
    this.checkEnvCycles(stage, env);
  }

  private check(text: Text, scope: Scope): void {
    if (!text.value.includes('${')) return; // plain text: nothing to check
    const template = parseTemplate(text.value);
    for (const error of template.errors) this.report(spanAt(text, error.occurrence), error.message);
    if (scope.inEnv && hasNamespace(template.parts, 'secrets') && hasNamespace(template.parts, 'needs')) {
      this.report(text.span, 'an env value cannot mix `${secrets...}` and `${needs...}`', 'split it into two variables');
    }
    for (const part of template.parts) {
      if (!('ref' in part)) continue;
      const stageDependent = part.ref.namespace === 'matrix' || part.ref.namespace === 'env';
      if ((scope.deferStageRefs && stageDependent) || (scope.onlyStageRefs && !stageDependent)) continue;
      const problem = this.problemWith(part.ref, scope);
      if (problem) this.report(spanAt(text, part.occurrence), problem.message, problem.hint);
    }
  }

  /** In a run script a reference becomes a shell variable (script-env.ts), which single quotes keep from expanding. */
  private warnSingleQuoted(script: Text): void {
    if (!script.value.includes('${')) return;
    const quoted = singleQuotedOpenings(script.value);
    if (quoted.size === 0) return;
    for (const part of parseTemplate(script.value).parts) {
      if (!('ref' in part) || !quoted.has(part.occurrence) || !SCRIPT_NAMESPACES.has(part.ref.namespace)) continue;
      const written = `\`\${${part.ref.expression}}\``;
      this.diagnostics.warning(
        spanAt(script, part.occurrence),
        'quoting',
        `${written} is inside single quotes, where the shell does not expand it`,
        `in a run script it becomes the variable \`\${${scriptVariableName(part.ref)}}\`: use double quotes`,
      );
    }
  }

  private report(span: Span, message: string, hint?: string): void {
    const key = `${span.line}:${span.column}:${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.error(span, 'interpolation', message, hint);
  }

  private problemWith(ref: Reference, scope: Scope): { message: string; hint?: string } | null {
    const written = `\`\${${ref.expression}}\``;
    const fixed = FIXED_KEYS[ref.namespace];
    if (fixed) return fixed.includes(ref.key) ? null : { message: `unknown reference ${written}`, hint: this.suggest(ref, scope) };
    switch (ref.namespace) {
      case 'var':
        this.usedVariables.add(ref.key);
        return this.variables.has(ref.key)
          ? null
          : {
              message: `unknown reference ${written}: no variable "${ref.key}" is declared`,
              hint: didYouMean(ref.key, this.variables, (s) => `\`\${var.${s}}\``) ?? `declare it: \`variable "${ref.key}" default="..."\``,
            };
      case 'matrix':
        return this.matrixProblem(ref, scope, written);
      case 'env':
        return this.envProblem(ref, scope, written);
      case 'needs':
        return this.outputProblem(ref, scope, written);
      case 'secrets':
        if (!scope.inEnv)
          return {
            message: `${written} can only be used in \`env\` values`,
            hint: `set it in the stage's env, e.g. \`env { ${ref.key || 'NAME'} "\${secrets.${ref.key || 'NAME'}}"; }\`, and use \`$${ref.key || 'NAME'}\` in the command`,
          };
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ref.key)) return { message: `invalid secret name in ${written}` };
        return ref.key.startsWith(RESERVED_ENV_PREFIX)
          ? { message: `${written}: names starting with ${RESERVED_ENV_PREFIX} are reserved for BuildIt's own variables`, hint: 'rename the secret' }
          : null;
      default:
        return { message: `unknown reference ${written}`, hint: this.suggest(ref, scope) };
    }
  }

  private matrixProblem(ref: Reference, scope: Scope, written: string): { message: string; hint?: string } | null {
    const keys = scope.stage?.matrix.map((axis) => axis.key) ?? [];
    if (keys.includes(ref.key)) return null;
    const where = scope.stage ? `stage "${scope.stage.name}" has no matrix key "${ref.key}"` : 'there is no matrix here';
    return { message: `unknown reference ${written}: ${where}`, hint: didYouMean(ref.key, keys, (s) => `\`\${matrix.${s}}\``) };
  }

  /** `${needs.S.outputs.O}`: S is a need of this stage (no matrix) that declares O; only in env values and run scripts. */
  private outputProblem(ref: Reference, scope: Scope, written: string): { message: string; hint?: string } | null {
    const output = outputReference(ref);
    if (output === null) return { message: `unknown reference ${written}`, hint: 'outputs of needed stages are `${needs.STAGE.outputs.NAME}`' };
    const { stage } = scope;
    if (stage === null || (!scope.inScript && !(scope.inEnv && !scope.onlyStageRefs))) {
      return { message: `${written} can only be used in a stage's \`env\` values and \`run\` scripts`, hint: 'it is known only when the stage starts' };
    }
    return neededOutputProblem(this.spec, stage, output, written, (name) => `\`\${needs.${output.stage}.outputs.${name}}\``);
  }

  private envProblem(ref: Reference, scope: Scope, written: string): { message: string; hint?: string } | null {
    const entry = scope.env().get(ref.key);
    if (entry === undefined) {
      if (scope.stage?.secrets.some((s) => s.name === ref.key)) {
        return {
          message: `${written} names a secret; secrets are not substituted into text`,
          hint: `use \`$${ref.key}\` in the command, or \`\${secrets.${ref.key}}\` in an \`env\` value`,
        };
      }
      return {
        message: `unknown reference ${written}: no environment variable "${ref.key}" is set in the pipeline or stage \`env\``,
        hint: didYouMean(ref.key, scope.env().keys(), (s) => `\`\${env.${s}}\``),
      };
    }
    const parts = parseTemplate(entry.value.value).parts;
    if (parts.some((part) => 'ref' in part && part.ref.namespace === 'secrets')) {
      return { message: `${written} holds a secret, which is never substituted into text`, hint: `use \`$${ref.key}\` in the command instead` };
    }
    if (parts.some((part) => 'ref' in part && part.ref.namespace === 'needs')) {
      return { message: `${written} holds a stage output, known only when the stage starts`, hint: `use \`$${ref.key}\` in the command instead` };
    }
    return null;
  }

  private suggest(ref: Reference, scope: Scope): string | undefined {
    const candidates = [
      ...Object.entries(FIXED_KEYS).flatMap(([namespace, keys]) => keys.map((key) => `${namespace}.${key}`)),
      ...(scope.stage?.matrix.map((axis) => `matrix.${axis.key}`) ?? []),
      ...[...scope.env().keys()].map((name) => `env.${name}`),
      ...[...this.variables].map((name) => `var.${name}`),
    ];
    return didYouMean(ref.expression, candidates, (s) => `\`\${${s}}\``);
  }

  /** `${env.A}` inside B and `${env.B}` inside A can never be resolved. */
  private checkEnvCycles(stage: StageSpec, lazyEnv: () => ReadonlyMap<string, EnvEntry>): void {
    const references = (entry: EnvEntry): boolean => entry.value.value.includes('env.');
    if (!stage.env.some(references) && !this.spec.env.some(references)) return; // the common case
    const env = lazyEnv();
    const names = [...env.keys()];
    const index = new Map(names.map((name, i) => [name, i]));
    let anyEdge = false;
    const edges = names.map((name) => {
      const needs: number[] = [];
      for (const part of parseTemplate(env.get(name)!.value.value).parts) {
        if ('ref' in part && part.ref.namespace === 'env' && index.has(part.ref.key)) needs.push(index.get(part.ref.key)!);
      }
      anyEdge ||= needs.length > 0;
      return needs;
    });
    if (!anyEdge) return;
    for (const cycle of findCycles(edges)) {
      const cycleNames = cycle.map((i) => names[i]!);
      const entry = env.get(cycleNames[0]!)!;
      this.report(
        entry.value.span,
        `environment variable cycle: ${[...cycleNames, cycleNames[0]!].join(' -> ')}`,
        'an `${env.X}` reference cannot lead back to itself',
      );
    }
  }
}

function hasNamespace(parts: TemplatePart[], namespace: string): boolean {
  return parts.some((part) => 'ref' in part && part.ref.namespace === namespace);
}

/** References a run script may hold (secrets only in `env` values). */
const SCRIPT_NAMESPACES = new Set(['env', 'git', 'pipeline', 'run', 'stage', 'matrix', 'var', 'needs']);

/** Every interpolated text of a stage, except env values (which may hold secrets) and run scripts. */
function stageTexts(stage: StageSpec): Text[] {
  return [
    ...(stage.image ? [stage.image] : []),
    ...stage.artifacts,
    ...stage.services.map((service) => service.image),
    ...(stage.build ? [stage.build.context, stage.build.dockerfile, stage.build.tag] : []),
    ...(stage.deploy ? [stage.deploy.environment, stage.deploy.service] : []),
    ...(stage.stack ? [stage.stack.name] : []),
    ...(stage.lock ? [stage.lock] : []),
  ];
}

function spanAt(text: Text, occurrence: number): Span {
  return text.refSpans[occurrence] ?? text.span;
}
