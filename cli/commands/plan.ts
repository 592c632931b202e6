/**
 * `buildit plan FILE`: shows what a run would do for one trigger (stages by level, needs, skips),
 * or the ExecutionPlan as JSON. Exit 0 on a plan (even "not triggered"), 1 when the pipeline is
 * invalid or cannot be planned, 2 on usage or I/O errors.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  formatDiagnostic,
  loadPipeline,
  plan,
  PlanError,
  TRIGGER_EVENTS,
  type ExecutionPlan,
  type PlannedStage,
  type TriggerContext,
  type TriggerEvent,
} from '../../lib/pipeline/index';
import { EXIT_FAILED, EXIT_SUCCEEDED, EXIT_USAGE } from '../exit-codes';
import { readPipelineFile } from './validate';
import { includeOptions } from '../includes';
import { changedFiles, type ChangedFiles } from '../changed-files';
import { UsageError } from '../errors';

interface PlanOptions {
  event: TriggerEvent;
  branch?: string;
  sha?: string;
  tag?: string;
  message?: string;
  author?: string;
  var: Record<string, string>;
  runId: string;
  runNumber: number;
  format: string;
  defaultImage?: string;
  changed?: string[];
  changedSince?: string;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('show the execution plan of a pipeline for one trigger')
    .argument('<file>', 'pipeline file')
    .option('--event <event>', `trigger event: ${TRIGGER_EVENTS.join(', ')}`, parseEvent, 'push')
    .option('--branch <branch>', 'branch of the trigger')
    .option('--sha <sha>', 'commit sha')
    .option('--tag <tag>', 'git tag (required with --event tag)')
    .option('--message <message>', 'commit message')
    .option('--author <author>', 'commit author')
    .option('--var <name=value>', 'run variable (repeatable)', collectVariable, {})
    .option('--run-id <id>', 'run id for ${run.id}', 'local')
    .option('--run-number <n>', 'run number for ${run.number}', parseRunNumber, 1)
    .option('--format <format>', 'output format: text or json', 'text')
    .option('--default-image <image>', 'image for container stages that name none')
    .option('--changed <file...>', 'files the trigger changed (paths from the repository root), for `paths=` and `when changes=`; default: from git')
    .option('--changed-since <ref>', 'compute the changed files from where HEAD left REF to the working tree (default: the upstream, else origin/HEAD)')
    .action((file: string, options: PlanOptions) => {
      process.exitCode = runPlan(file, options);
    });
}

function parseEvent(value: string): TriggerEvent {
  if (!(TRIGGER_EVENTS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${TRIGGER_EVENTS.join(', ')}`);
  return value as TriggerEvent;
}

function collectVariable(value: string, previous: Record<string, string>): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('expected NAME=VALUE');
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

function parseRunNumber(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return number;
}

function runPlan(file: string, options: PlanOptions): number {
  if (options.format !== 'text' && options.format !== 'json') {
    process.stderr.write(`buildit plan: unknown format "${options.format}" (use text or json)\n`);
    return EXIT_USAGE;
  }
  const bytes = readPipelineFile(file);
  if (bytes === null) return EXIT_USAGE;
  const { spec, diagnostics } = loadPipeline(bytes, file, { defaultImage: options.defaultImage, ...includeOptions(file) });
  for (const diagnostic of diagnostics) process.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
  if (spec === null) return EXIT_FAILED;
  let changed: ChangedFiles;
  try {
    changed = changedFiles(spec, file, options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`buildit plan: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (changed.note !== null) process.stderr.write(`buildit plan: ${changed.note}\n`);
  let result: ExecutionPlan;
  try {
    result = plan(spec, triggerFrom(options, changed.files));
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    process.stderr.write(`${file}: error: ${error.message}\n`);
    return EXIT_FAILED;
  }
  process.stdout.write(options.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatPlan(result));
  return EXIT_SUCCEEDED;
}

function triggerFrom(options: PlanOptions, changedFiles: string[] | undefined): TriggerContext {
  const trigger: TriggerContext = { event: options.event, variables: options.var, runId: options.runId, runNumber: options.runNumber };
  if (options.branch !== undefined) trigger.branch = options.branch;
  if (options.tag !== undefined) trigger.tag = options.tag;
  if (options.sha !== undefined) trigger.sha = options.sha;
  if (options.message !== undefined) trigger.message = options.message;
  if (options.author !== undefined) trigger.author = options.author;
  if (changedFiles !== undefined) trigger.changedFiles = changedFiles;
  return trigger;
}

export function formatPlan(result: ExecutionPlan): string {
  const lines = [`pipeline ${result.pipeline}`];
  if (!result.triggered) return `${lines[0]}\nnot triggered: ${result.notTriggeredReason}\n`;
  const byId = new Map(result.stages.map((stage) => [stage.id, stage]));
  result.levels.forEach((ids, level) => {
    lines.push(`level ${level}:`);
    for (const id of ids) lines.push(`  ${describeStage(byId.get(id)!)}`);
  });
  const skipped = result.stages.filter((stage) => stage.skip !== null).length;
  lines.push(`${result.stages.length} stages, ${skipped} skipped`);
  return `${lines.join('\n')}\n`;
}

function describeStage(stage: PlannedStage): string {
  const what = stage.kind === 'run' ? `run${stage.image ? ` in ${stage.image}` : ''}` : stage.kind;
  const optional = new Set(stage.optionalNeeds ?? []);
  const needs = stage.needs.length > 0 ? ` (needs ${stage.needs.map((need) => (optional.has(need) ? `optional ${need}` : need)).join(', ')})` : '';
  const flags = [stage.approval ? 'approval' : '', stage.allowFailure ? 'allow-failure' : '', stage.lock ? `lock "${stage.lock}"` : '']
    .filter(Boolean)
    .map((f) => ` [${f}]`)
    .join('');
  const skip = stage.skip ? ` — skipped: ${stage.skip.reason}` : '';
  return `${stage.id}: ${what}${needs}${flags}${skip}${describeOutputWhen(stage)}`;
}

/** `— runs if needs.a.outputs.X="y" (or ...), tested when it starts` */
function describeOutputWhen(stage: PlannedStage): string {
  if (!stage.outputWhen) return '';
  const alternatives = stage.outputWhen.map((all) => all.map((c) => `needs.${c.need}.outputs.${c.output}="${c.value}"`).join(' and '));
  return ` — runs if ${alternatives.join(' or ')}, tested when it starts`;
}
