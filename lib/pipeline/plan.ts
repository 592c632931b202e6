/**
 * `plan(spec, trigger)`: one trigger's concrete DAG. Applies trigger filters, expands matrices,
 * evaluates `when`, interpolates, computes levels. Deterministic: no clock, no randomness; ids and
 * numbers come in through the trigger, so the same input gives byte-identical JSON.
 */
import { changesMatch, describeChanges, globMatches, planWhen, type WhenDecision } from './conditions';
import { matrixCombinations } from './matrix';
import { didYouMean } from './diagnostics';
import { pathProblem } from './paths';
import { topologicalLevels } from './graph';
import { outputReference, parseTemplate, renderTemplate, type Reference } from './interpolate';
import { scriptVariableName } from './script-env';
import { TRIGGER_EVENTS, type ExecutionPlan, type OutputTemplate, type PlannedStage, type SecretTemplate, type TriggerContext } from './plan-types';
import type { CacheSpec, EnvEntry, NeedSpec, PipelineSpec, StageSpec, Text, TriggerSpec } from './spec-types';
import { MAX_PLANNED_STAGES, plannedStageCount } from './validate';

/** The trigger cannot be planned (unknown or missing variables, a spec with errors): a user error. */
export class PlanError extends Error {
  override readonly name = 'PlanError';
}

export function plan(spec: PipelineSpec, trigger: TriggerContext): ExecutionPlan {
  checkTrigger(trigger);
  const notTriggeredReason = triggerMismatch(spec.triggers, trigger);
  const base = { pipeline: spec.name, concurrency: spec.concurrency, timeoutMs: spec.timeoutMs };
  if (notTriggeredReason !== null) return { ...base, triggered: false, notTriggeredReason, stages: [], levels: [] };
  const stageCount = plannedStageCount(spec);
  // Validation refuses such a file; checked again so that no stored pipeline can make a huge plan.
  if (stageCount > MAX_PLANNED_STAGES) throw new PlanError(`the pipeline plans ${stageCount} stages; at most ${MAX_PLANNED_STAGES} are allowed per run`);
  const variables = resolveVariables(spec, trigger);
  const group = spec.group
    ? { group: { name: renderPipelineText(spec.group.name, spec, trigger, variables), cancelInProgress: spec.group.cancelInProgress } }
    : {};
  const caches = new Map<string, CacheSpec>();
  for (const cache of spec.caches) if (!caches.has(cache.name)) caches.set(cache.name, cache);
  const whens = spec.stages.map((stage) => planWhen(stage.when, trigger, variables));
  const skipReasons = whens.map((when) => when.skip);
  const needs = effectiveNeeds(spec.stages, skipReasons);
  const stageLevels = levelsOf(spec.stages, needs);
  const idsByStage = new Map<string, string[]>();
  const planned: Array<{ stage: PlannedStage; order: number; optional: string[] }> = [];
  spec.stages.forEach((stage, declaration) => {
    const combinations = matrixCombinations(stage);
    const ids = combinations.map((matrix) => stageId(stage.name, matrix));
    idsByStage.set(stage.name, ids);
    const env = stageEnv(spec, stage);
    const stageNeeds = needs[declaration]!;
    const optional = stageNeeds.filter((need) => need.optional).map((need) => need.name);
    combinations.forEach((matrix, i) => {
      const context = new StageContext(spec, stage, env, matrix, trigger, variables);
      const plannedStage = planStage(context, ids[i]!, stageLevels.get(stage.name)!, caches, whens[declaration]!);
      plannedStage.needs = stageNeeds.map((need) => need.name);
      planned.push({ stage: plannedStage, order: declaration, optional });
    });
  });
  for (const entry of planned) {
    entry.stage.needs = expandNeeds(entry.stage.needs, idsByStage);
    if (entry.optional.length > 0) entry.stage.optionalNeeds = expandNeeds(entry.optional, idsByStage);
  }
  // Stable sort: equal (level, declaration) keeps matrix order.
  const stages = planned.sort((a, b) => a.stage.level - b.stage.level || a.order - b.order).map((p) => p.stage);
  return { ...base, ...group, triggered: true, notTriggeredReason: null, stages, levels: groupByLevel(stages) };
}

/** A need on a matrix stage is a need on each of its combinations. Plain loops: this runs for every planned stage. */
function expandNeeds(needs: string[], idsByStage: Map<string, string[]>): string[] {
  const ids: string[] = [];
  for (const name of needs) for (const id of idsByStage.get(name) ?? []) ids.push(id);
  return ids;
}

/**
 * The needs each stage keeps in this plan, by declaration index. A stage is out of the run when its
 * `when` is false or a required need of it is out (the orchestrator then skips it too); an optional
 * need on such a stage is dropped, so the dependent runs without it instead of being skipped.
 * Decided per stage name: `when` does not depend on matrix values.
 */
function effectiveNeeds(stages: StageSpec[], skipReasons: Array<string | null>): NeedSpec[][] {
  if (!stages.some((stage) => stage.needs.some((need) => need.optional))) return stages.map((stage) => stage.needs);
  const index = new Map(stages.map((stage, i) => [stage.name, i]));
  const levels = topologicalLevels(stages.map((stage) => stage.needs.map((need) => index.get(need.name) ?? -1).filter((i) => i >= 0)));
  const order = stages.map((_, i) => i).sort((a, b) => (levels[a] ?? 0) - (levels[b] ?? 0));
  const out = new Array<boolean>(stages.length).fill(false);
  // In level order, every need is decided before the stages that need it.
  for (const i of order) {
    out[i] = skipReasons[i] !== null || stages[i]!.needs.some((need) => !need.optional && out[index.get(need.name) ?? -1] === true);
  }
  return stages.map((stage) => stage.needs.filter((need) => !need.optional || out[index.get(need.name) ?? -1] !== true));
}

function checkTrigger(trigger: TriggerContext): void {
  if (!(TRIGGER_EVENTS as readonly string[]).includes(trigger.event)) {
    throw new PlanError(`unknown trigger event "${String(trigger.event)}" (events are ${TRIGGER_EVENTS.join(', ')})`);
  }
  // A tag trigger without its tag could only match by accident and would leave `${git.tag}` empty.
  if (trigger.event === 'tag' && !trigger.tag) throw new PlanError('the event "tag" needs the tag that was pushed (e.g. --tag v1.2.0)');
}

/** Null when the pipeline runs for this trigger, else why not. No `on` at all accepts every event. */
export function triggerMismatch(triggers: TriggerSpec[], trigger: TriggerContext): string | null {
  if (triggers.length === 0) return null;
  const forEvent = triggers.filter((t) => t.event === trigger.event);
  if (forEvent.length === 0) {
    const declared = [...new Set(triggers.map((t) => `"${t.event}"`))].join(', ');
    return `the pipeline has no \`on "${trigger.event}"\` trigger (it runs on ${declared})`;
  }
  // "tag" filters the tag; every other event with globs filters the branch.
  const what = trigger.event === 'tag' ? 'tag' : 'branch';
  const value = what === 'tag' ? trigger.tag : trigger.branch;
  const globsOf = (t: TriggerSpec): string[] => (what === 'tag' ? t.tags : t.branches);
  const refMatching = forEvent.filter((t) => globsOf(t).length === 0 || (value !== undefined && globsOf(t).some((glob) => globMatches(glob, value))));
  if (refMatching.length === 0) {
    const globs = [...new Set(forEvent.flatMap(globsOf))].map((g) => `"${g}"`).join(', ');
    if (value === undefined) return `"${trigger.event}" without a ${what} does not match the ${what} filter ${globs}`;
    return `${what} "${value}" does not match the \`on "${trigger.event}"\` ${what} filter ${globs}`;
  }
  if (refMatching.some((t) => t.paths.length === 0 || changesMatch(t.paths, trigger.changedFiles))) return null;
  const paths = [...new Set(refMatching.flatMap((t) => t.paths))].map((g) => `"${g}"`).join(', ');
  return `no changed file matches the \`on "${trigger.event}"\` path filter ${paths} (${describeChanges(trigger.changedFiles!)})`;
}

function resolveVariables(spec: PipelineSpec, trigger: TriggerContext): Map<string, string> {
  const given = trigger.variables ?? {};
  const declared = spec.variables.map((v) => v.name);
  for (const name of Object.keys(given).sort()) {
    if (declared.includes(name)) continue;
    const suggestion = didYouMean(name, declared, (s) => `"${s}"`);
    const known = declared.length === 0 ? 'the pipeline declares no variables' : `declared: ${declared.join(', ')}`;
    throw new PlanError(`unknown variable "${name}" (${known})${suggestion ? `; ${suggestion}` : ''}`);
  }
  const values = new Map<string, string>();
  for (const variable of spec.variables) {
    const value = Object.hasOwn(given, variable.name) ? given[variable.name] : variable.default;
    if (value === null || value === undefined) {
      throw new PlanError(
        `variable "${variable.name}" is required (it has no default): give it a value when triggering the run, e.g. --var ${variable.name}=...`,
      );
    }
    values.set(variable.name, value);
  }
  return values;
}

/** `needs`: the needs each stage keeps in this plan (see `effectiveNeeds`), by declaration index. */
function levelsOf(stages: StageSpec[], needs: NeedSpec[][]): Map<string, number> {
  const index = new Map(stages.map((stage, i) => [stage.name, i]));
  const levels = topologicalLevels(needs.map((list) => list.map((need) => index.get(need.name) ?? -1).filter((i) => i >= 0)));
  const byName = new Map<string, number>();
  stages.forEach((stage, i) => {
    const level = levels[i];
    if (level === null || level === undefined) throw new PlanError(`stage "${stage.name}" is on a dependency cycle; validate the pipeline first`);
    byName.set(stage.name, level);
  });
  return byName;
}

export function stageId(name: string, matrix: Record<string, string>): string {
  const pairs = Object.entries(matrix).map(([key, value]) => `${key}=${value}`);
  return pairs.length === 0 ? name : `${name}[${pairs.join(',')}]`;
}

function groupByLevel(stages: PlannedStage[]): string[][] {
  const levels: string[][] = [];
  for (const stage of stages) (levels[stage.level] ??= []).push(stage.id);
  return levels;
}

/** The pipeline env merged with the stage's (the stage wins); the same for every matrix combination. */
function stageEnv(spec: PipelineSpec, stage: StageSpec): Map<string, EnvEntry> {
  const env = new Map<string, EnvEntry>();
  for (const entry of spec.env) env.set(entry.name, entry);
  for (const entry of stage.env) env.set(entry.name, entry);
  return env;
}

/** Everything `${...}` can see in one planned stage. */
class StageContext {
  /** Created on the first `${env.X}`: most stages have none. */
  private renderedEnv: Map<string, string> | undefined;
  private readonly resolver = (ref: Reference): string => this.resolve(ref);

  constructor(
    readonly spec: PipelineSpec,
    readonly stage: StageSpec,
    /** See `stageEnv`. */
    readonly env: ReadonlyMap<string, EnvEntry>,
    readonly matrix: Record<string, string>,
    readonly trigger: TriggerContext,
    private readonly variables: Map<string, string>,
  ) {}

  render(text: Text): string {
    // Most strings have no `${` at all: nothing to parse or substitute.
    if (!text.value.includes('${')) return text.value;
    return renderTemplate(parseTemplate(text.value), this.resolver);
  }

  /**
   * A `run` script: each reference becomes `${NAME}` of an environment variable, whose value goes into
   * `scriptEnv` (see script-env.ts). `${env.X}` is the stage's own variable X, already in its env.
   */
  renderScript(text: Text, scriptEnv: Map<string, string>, outputEnv: Map<string, OutputTemplate>): string {
    if (!text.value.includes('${')) return text.value;
    return renderTemplate(parseTemplate(text.value), (ref) => {
      const name = scriptVariableName(ref);
      const output = outputReference(ref);
      if (output) outputEnv.set(name, [{ need: output.stage, output: output.output }]);
      else if (ref.namespace !== 'env') scriptEnv.set(name, this.resolve(ref));
      return `\${${name}}`;
    });
  }

  /** An env value made of needs' outputs (validation keeps secrets out of it), or null when it has none. */
  renderOutputEnv(entry: EnvEntry): OutputTemplate | null {
    if (!entry.value.value.includes('needs.')) return null; // the common case: no output reference at all
    const template = parseTemplate(entry.value.value);
    if (!template.parts.some((part) => 'ref' in part && part.ref.namespace === 'needs')) return null;
    const out: OutputTemplate = [];
    for (const part of template.parts) {
      const output = 'ref' in part ? outputReference(part.ref) : null;
      if (output) out.push({ need: output.stage, output: output.output });
      else appendText(out, 'text' in part ? part.text : this.resolve(part.ref));
    }
    return out;
  }

  /** An env value: plain text, or a template when it references secrets (resolved at execution). */
  renderEnv(entry: EnvEntry): string | SecretTemplate {
    const template = parseTemplate(entry.value.value);
    if (!template.parts.some((part) => 'ref' in part && part.ref.namespace === 'secrets')) return this.render(entry.value);
    const out: SecretTemplate = [];
    for (const part of template.parts) {
      if ('ref' in part && part.ref.namespace === 'secrets') out.push({ secret: part.ref.key });
      else appendText(out, 'text' in part ? part.text : this.resolve(part.ref));
    }
    return out;
  }

  private resolve(ref: Reference): string {
    const { trigger } = this;
    switch (ref.namespace) {
      case 'git':
        return gitValue(ref.key, trigger);
      case 'pipeline':
        return this.spec.name;
      case 'run':
        return ref.key === 'id' ? trigger.runId : String(trigger.runNumber);
      case 'stage':
        return this.stage.name;
      case 'matrix':
        return this.matrix[ref.key] ?? '';
      case 'var':
        return this.variables.get(ref.key) ?? '';
      case 'env':
        return this.envValue(ref.key);
      default:
        // Validation rejects anything else; an unknown reference stays as written rather than vanish.
        return `\${${ref.expression}}`;
    }
  }

  /** Validation guarantees env references are acyclic and never lead to a secret. */
  private envValue(name: string): string {
    this.renderedEnv ??= new Map();
    let value = this.renderedEnv.get(name);
    if (value === undefined) {
      const entry = this.env.get(name);
      value = entry ? this.render(entry.value) : '';
      this.renderedEnv.set(name, value);
    }
    return value;
  }
}

/** Pipeline-level text (the group name): validation allows only git, pipeline, run and var references there. */
function renderPipelineText(text: Text, spec: PipelineSpec, trigger: TriggerContext, variables: Map<string, string>): string {
  if (!text.value.includes('${')) return text.value;
  return renderTemplate(parseTemplate(text.value), (ref) => {
    if (ref.namespace === 'git') return gitValue(ref.key, trigger);
    if (ref.namespace === 'pipeline') return spec.name;
    if (ref.namespace === 'run') return ref.key === 'id' ? trigger.runId : String(trigger.runNumber);
    if (ref.namespace === 'var') return variables.get(ref.key) ?? '';
    return `\${${ref.expression}}`;
  });
}

/** A lock name that interpolates to nothing would make unrelated stages share the lock "": refused. */
function planLock(context: StageContext, id: string): { lock?: string } {
  if (context.stage.lock === null) return {};
  const lock = context.render(context.stage.lock).trim();
  if (lock === '')
    throw new PlanError(`the lock name of stage "${id}" is empty after interpolation ("${context.stage.lock.value}"); give its references values`);
  return { lock };
}

function appendText(template: SecretTemplate | OutputTemplate, text: string): void {
  if (text === '') return;
  const last = template[template.length - 1];
  if (last && 'text' in last) last.text += text;
  else template.push({ text });
}

function gitValue(key: string, trigger: TriggerContext): string {
  switch (key) {
    case 'sha':
      return trigger.sha ?? '';
    case 'short_sha':
      return (trigger.sha ?? '').slice(0, 7);
    case 'branch':
      return trigger.branch ?? '';
    case 'tag':
      return trigger.tag ?? '';
    case 'message':
      return trigger.message ?? '';
    case 'author':
      return trigger.author ?? '';
    case 'pr':
      return trigger.pullRequest ? String(trigger.pullRequest.number) : '';
    case 'source_branch':
      return trigger.pullRequest?.sourceBranch ?? '';
    case 'target_branch':
      return trigger.pullRequest?.targetBranch ?? '';
    default:
      return '';
  }
}

function planCaches(context: StageContext, caches: Map<string, CacheSpec>): PlannedStage['caches'] {
  const planned: PlannedStage['caches'] = [];
  for (const name of new Set(context.stage.caches.map((c) => c.name))) {
    const cache = caches.get(name);
    if (!cache) continue;
    const paths = cache.paths.map((p) => checkedPath(context.render(p), `path of cache "${name}"`, { relative: false }));
    planned.push({ name, key: context.render(cache.key), paths });
  }
  return planned;
}

/**
 * Validation checks the paths as written; a `${var.X}` can still bring `..` (or a leading `/`) in at
 * trigger time, which must not lead a stage's files outside its workspace.
 */
function checkedPath(value: string, what: string, options: { relative: boolean }): string {
  const problem = pathProblem(value, options);
  if (problem) throw new PlanError(`${what} ${JSON.stringify(value)} ${problem} (after interpolation)`);
  return value;
}

function matrixLimits(stage: StageSpec): Pick<PlannedStage, 'matrixLimits'> {
  const { failFast, maxParallel } = stage.matrixOptions;
  if (stage.matrix.length === 0 || (!failFast && maxParallel === null)) return {};
  return { matrixLimits: { ...(failFast ? { failFast: true as const } : {}), ...(maxParallel === null ? {} : { maxParallel }) } };
}

function planStage(context: StageContext, id: string, level: number, caches: Map<string, CacheSpec>, when: WhenDecision): PlannedStage {
  const { stage } = context;
  if (stage.kind === null) throw new PlanError(`stage "${stage.name}" has nothing to do; validate the pipeline first`);
  // Entries, then Object.fromEntries: a variable named `__proto__` must stay a plain key.
  const env: Array<[string, string]> = [];
  const secretEnv: Array<[string, SecretTemplate]> = [];
  const secrets = new Set(stage.secrets.map((s) => s.name));
  const outputEnv = new Map<string, OutputTemplate>();
  for (const entry of context.env.values()) {
    const fromOutputs = context.renderOutputEnv(entry);
    if (fromOutputs) {
      outputEnv.set(entry.name, fromOutputs);
      continue;
    }
    const value = context.renderEnv(entry);
    if (typeof value === 'string') env.push([entry.name, value]);
    else {
      secretEnv.push([entry.name, value]);
      for (const part of value) if ('secret' in part) secrets.add(part.secret);
    }
  }
  const scriptEnv = new Map<string, string>();
  const commands = stage.commands.map((command) => context.renderScript(command, scriptEnv, outputEnv));
  env.push(...scriptEnv);
  const artifacts = stage.artifacts.map((glob) => checkedPath(context.render(glob), `artifact path of stage "${id}"`, { relative: true }));
  return {
    id,
    name: stage.name,
    matrix: context.matrix,
    needs: [],
    level,
    kind: stage.kind,
    ...(stage.status === 'success' ? {} : { runOn: stage.status }),
    ...matrixLimits(stage),
    skip: when.skip === null ? null : { reason: when.skip },
    ...(when.outputWhen ? { outputWhen: when.outputWhen } : {}),
    image: stage.image ? context.render(stage.image) : null,
    commands,
    env: Object.fromEntries(env),
    secretEnv: Object.fromEntries(secretEnv),
    ...(outputEnv.size === 0 ? {} : { outputEnv: Object.fromEntries(outputEnv) }),
    ...(stage.outputs.length === 0 ? {} : { outputs: stage.outputs.map((o) => o.name) }),
    secrets: [...secrets].sort(),
    caches: planCaches(context, caches),
    artifacts,
    services: stage.services.map((service) => ({
      name: service.name,
      image: context.render(service.image),
      env: Object.fromEntries(service.env.map((entry) => [entry.name, context.render(entry.value)])),
    })),
    timeoutMs: stage.timeoutMs,
    retry: stage.retry,
    allowFailure: stage.allowFailure,
    approval: stage.approval,
    executor: stage.executor,
    ...planLock(context, id),
    build: stage.build
      ? { context: context.render(stage.build.context), dockerfile: context.render(stage.build.dockerfile), tag: context.render(stage.build.tag) }
      : null,
    deploy: stage.deploy ? { environment: context.render(stage.deploy.environment), service: context.render(stage.deploy.service) } : null,
    stack: stage.stack ? { name: context.render(stage.stack.name), action: stage.stack.action } : null,
  };
}
