/**
 * The pipeline language: KDL text → `PipelineSpec` (+ diagnostics) → `ExecutionPlan` for one trigger.
 * Pure: no I/O. Used by the CLI, the API server and the worker.
 */
import { DiagnosticCollector, type Diagnostic } from './diagnostics';
import { KdlSource } from './kdl';
import { IncludeSources, type IncludeReader } from './includes';
import { parsePipeline, type IncludeOptions } from './parse';
import type { PipelineSpec } from './spec-types';
import { decodeUtf8 } from './utf8';
import { validatePipeline, type ValidateOptions } from './validate';

export type { Diagnostic, Severity, Span } from './diagnostics';
export { readIncludedFiles, type IncludeReader } from './includes';
export { formatDiagnostic } from './diagnostics';
export { plan, PlanError } from './plan';
export { TRIGGER_EVENTS } from './plan-types';
export type * from './plan-types';
export type * from './spec-types';

export interface LoadOptions extends ValidateOptions {
  /** Reads the files `include` names (paths from the repository root); without it `include` is an error. */
  readInclude?: IncludeReader;
  /** The file's own path from the repository root, for include cycles; default `file`. */
  pathInRepository?: string;
}

export interface LoadResult {
  /** Null when there is at least one error. */
  spec: PipelineSpec | null;
  /** Errors and warnings, sorted by position and deduped. */
  diagnostics: Diagnostic[];
}

/**
 * Parses and validates; never throws, whatever the input.
 *
 * Two passes, because a KDL parse that stores source locations costs 2–3x a bare one and only
 * diagnostics need positions. The first pass parses without locations; a file without any diagnostic
 * (the common case: the server and the worker load files that were valid when saved) is done, and
 * its spec's spans are resolved by one located re-parse only if something reads them. Any diagnostic
 * at all, error or warning, discards the first pass; the second redoes everything on a located parse,
 * so every diagnostic has its exact position.
 *
 * Bytes (a file as read from disk) must be UTF-8: anything else is an error at the first bad byte.
 */
export function loadPipeline(input: string | Uint8Array, file: string, options: LoadOptions = {}): LoadResult {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    const decoded = decodePipelineFile(input, file);
    if ('diagnostic' in decoded) return { spec: null, diagnostics: [decoded.diagnostic] };
    text = decoded.text;
  }
  const source = new KdlSource(text);
  const include = { sources: new IncludeSources(options.readInclude), mainPath: options.pathInRepository ?? file };
  const fast = check(source, file, options, include, false);
  if (fast.diagnostics.isEmpty) return { spec: fast.spec, diagnostics: [] };
  const located = check(source, file, options, include, true);
  return { spec: located.spec, diagnostics: located.diagnostics.result() };
}

/** A pipeline file's text, or the error at its first byte that is not UTF-8 (node's 'utf8' decoding would hide it). */
export function decodePipelineFile(bytes: Uint8Array, file: string): { text: string } | { diagnostic: Diagnostic } {
  const decoded = decodeUtf8(bytes);
  if (decoded.ok) return { text: decoded.text };
  const diagnostics = new DiagnosticCollector(file);
  const byte = `0x${decoded.byte.toString(16).padStart(2, '0')}`;
  diagnostics.error(decoded.span, 'encoding', `the file is not valid UTF-8 (byte ${byte})`, 'save the file as UTF-8');
  return { diagnostic: diagnostics.result()[0]! };
}

function check(
  source: KdlSource,
  file: string,
  options: LoadOptions,
  include: IncludeOptions,
  storeLocations: boolean,
): { spec: PipelineSpec | null; diagnostics: DiagnosticCollector } {
  const diagnostics = new DiagnosticCollector(file);
  try {
    const spec = parsePipeline(source, file, diagnostics, storeLocations, include);
    if (spec !== null) validatePipeline(spec, diagnostics, options);
    if (spec === null || diagnostics.hasErrors) return { spec: null, diagnostics };
    applyDefaultImage(spec, options.defaultImage);
    return { spec, diagnostics };
  } catch (error) {
    // A bug of ours must not take the caller down with it; it still makes the file unusable.
    const reason = error instanceof Error ? error.message : String(error);
    diagnostics.error({ line: 1, column: 1 }, 'internal', `internal error while checking the pipeline: ${reason}`, 'please report this with the file');
    return { spec: null, diagnostics };
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
