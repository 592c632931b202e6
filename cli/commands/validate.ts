/**
 * `buildit validate [FILE...]`: checks pipelines and prints every problem as `FILE:LINE:COL: ...`.
 * Exit 0 when every file is valid (warnings allowed), 1 when one is invalid, 2 on usage or I/O errors.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { messageOf } from '../../lib/errors';
import { formatDiagnostic, loadPipeline, type Diagnostic } from '../../lib/pipeline/index';
import { EXIT_FAILED, EXIT_SUCCEEDED, EXIT_USAGE } from '../exit-codes';
import { includeOptions } from '../includes';

export const DEFAULT_PIPELINE_FILE = 'buildit.kdl';

interface ValidateOptions {
  format: string;
  defaultImage?: string;
}

interface FileReport {
  file: string;
  valid: boolean;
  diagnostics: Diagnostic[];
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check pipeline files and print every problem found')
    .argument('[files...]', 'pipeline files', [DEFAULT_PIPELINE_FILE])
    .option('--format <format>', 'output format: text or json', 'text')
    .option('--default-image <image>', 'image for container stages that name none')
    .action((files: string[], options: ValidateOptions) => {
      process.exitCode = runValidate(files, options);
    });
}

function runValidate(files: string[], options: ValidateOptions): number {
  if (options.format !== 'text' && options.format !== 'json') {
    process.stderr.write(`buildit validate: unknown format "${options.format}" (use text or json)\n`);
    return EXIT_USAGE;
  }
  const reports: FileReport[] = [];
  let unreadable = 0;
  for (const file of files) {
    const bytes = readPipelineFile(file);
    if (bytes === null) {
      unreadable++;
      continue;
    }
    const { spec, diagnostics } = loadPipeline(bytes, file, { defaultImage: options.defaultImage, ...includeOptions(file) });
    reports.push({ file, valid: spec !== null, diagnostics });
  }
  if (options.format === 'json') process.stdout.write(`${JSON.stringify({ files: reports.map(toJson) }, null, 2)}\n`);
  else printText(reports);
  // An unreadable file is a usage/I-O error and outranks invalid ones: the check was incomplete.
  if (unreadable > 0) return EXIT_USAGE;
  return reports.every((report) => report.valid) ? EXIT_SUCCEEDED : EXIT_FAILED;
}

/** The file's bytes (loadPipeline checks they are UTF-8), or null after printing why it cannot be read. */
export function readPipelineFile(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : messageOf(error);
    const hint =
      code === 'ENOENT' && file === DEFAULT_PIPELINE_FILE ? ' (pass the pipeline file as an argument, or run in the directory that has buildit.kdl)' : '';
    process.stderr.write(`buildit: cannot read ${file}: ${reason}${hint}\n`);
    return null;
  }
}

function printText(reports: FileReport[]): void {
  if (reports.length === 0) return;
  for (const report of reports) {
    for (const diagnostic of report.diagnostics) process.stdout.write(`${formatDiagnostic(diagnostic)}\n`);
  }
  const invalid = reports.filter((report) => !report.valid).length;
  const summary = invalid === 0 ? `${plural(reports.length, 'file')} valid` : `${invalid} of ${plural(reports.length, 'file')} invalid`;
  process.stderr.write(`${summary}\n`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function toJson(report: FileReport) {
  return {
    file: report.file,
    valid: report.valid,
    diagnostics: report.diagnostics.map((d) => ({ severity: d.severity, message: d.message, line: d.line, column: d.column, hint: d.hint ?? null })),
  };
}
