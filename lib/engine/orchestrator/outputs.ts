/**
 * Stage outputs: a stage that declares `outputs "NAME"` gets `$BUILDIT_OUTPUT`, a file it writes
 * `NAME=value` lines to; after it succeeds the declared names are read back and handed to the stages
 * that need it, as environment values (never as script text: see lib/pipeline/script-env.ts).
 */
import type { OutputTemplate, PlannedStage } from '../../pipeline/plan-types';
import type { StageResult } from './types';

/** More than this in one stage's output file fails the stage: outputs are values, not files (use artifacts). */
export const MAX_OUTPUT_BYTES = 64 * 1024;

export interface ParsedOutputs {
  outputs: Record<string, string>;
  /** Names written that the stage does not declare (ignored, and said so in its log). */
  undeclared: string[];
}

/** `NAME=value` lines; a name written twice keeps its last value; blank lines are ignored. */
export function parseOutputFile(text: string, declared: readonly string[]): ParsedOutputs | { error: string } {
  if (Buffer.byteLength(text) > MAX_OUTPUT_BYTES) {
    return { error: `the output file ($BUILDIT_OUTPUT) holds more than ${MAX_OUTPUT_BYTES / 1024} KiB; pass files between stages as artifacts` };
  }
  const outputs: Record<string, string> = {};
  const undeclared = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const equals = line.indexOf('=');
    if (equals <= 0) return { error: `the output file ($BUILDIT_OUTPUT) has a line that is not NAME=value: ${JSON.stringify(line.slice(0, 80))}` };
    const name = line.slice(0, equals);
    if (declared.includes(name)) outputs[name] = line.slice(equals + 1);
    else undeclared.add(name);
  }
  return { outputs, undeclared: [...undeclared] };
}

/** The stage's env with its needs' outputs filled in (an output never written is empty). */
export function envWithOutputs(stage: PlannedStage, resultOf: (id: string) => StageResult | undefined): PlannedStage {
  if (stage.outputEnv === undefined) return stage;
  const env = { ...stage.env };
  for (const [name, template] of Object.entries(stage.outputEnv)) env[name] = renderOutputTemplate(template, resultOf);
  return { ...stage, env };
}

function renderOutputTemplate(template: OutputTemplate, resultOf: (id: string) => StageResult | undefined): string {
  let out = '';
  for (const part of template) out += 'text' in part ? part.text : (resultOf(part.need)?.outputs?.[part.output] ?? '');
  return out;
}
