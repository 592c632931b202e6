/**
 * The pipeline language: KDL text → `PipelineSpec` (+ diagnostics) → `ExecutionPlan` for one trigger.
 * Pure: no I/O. Used by the CLI, the API server and the worker.
 */
import { DiagnosticCollector, type Diagnostic } from './diagnostics';
import { parsePipeline } from './parse';
import type { PipelineSpec } from './spec-types';
import { validatePipeline, type ValidateOptions } from './validate';

export type { Diagnostic, Severity, Span } from './diagnostics';
export { formatDiagnostic } from './diagnostics';
export { plan, PlanError } from './plan';
export type * from './plan-types';
export type * from './spec-types';

export type LoadOptions = ValidateOptions;

export interface LoadResult {
  /** Null when there is at least one error. */
  spec: PipelineSpec | null;
  /** Errors and warnings, sorted by position and deduped. */
  diagnostics: Diagnostic[];
}

/** Parses and validates; never throws, whatever the input. */
export function loadPipeline(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const diagnostics = new DiagnosticCollector(file);
  try {
    const spec = parsePipeline(text, file, diagnostics);
    if (spec !== null) validatePipeline(spec, diagnostics, options);
    if (spec === null || diagnostics.hasErrors) return { spec: null, diagnostics: diagnostics.result() };
    applyDefaultImage(spec, options.defaultImage);
    return { spec, diagnostics: diagnostics.result() };
  } catch (error) {
    // A bug of ours must not take the caller down with it; it still makes the file unusable.
    const reason = error instanceof Error ? error.message : String(error);
    diagnostics.error({ line: 1, column: 1 }, 'internal', `internal error while checking the pipeline: ${reason}`, 'please report this with the file');
    return { spec: null, diagnostics: diagnostics.result() };
  }
}

/** Container `run` stages without an image get the configured default, as written (not interpolated). */
function applyDefaultImage(spec: PipelineSpec, defaultImage: string | undefined): void {
  if (defaultImage === undefined) return;
  for (const stage of spec.stages) {
    if (stage.kind === 'run' && stage.image === null && stage.executor !== 'local') {
      stage.image = { value: defaultImage.replaceAll('${', '$${'), span: stage.span, refSpans: [] };
    }
  }
}
