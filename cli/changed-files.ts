/**
 * The changed files of `buildit plan` and `buildit run` (path filters: `on ... paths=`, `when changes=`),
 * from the git checkout the pipeline file is in, as the server computes them for a push: everything from
 * where this checkout left its base to what would be pushed now, so the working tree (uncommitted and
 * untracked files, which `buildit run` copies into its workspace) counts too. The base is `--changed-since
 * REF`, else the current branch's upstream (what a push of it would compare with), else the remote's
 * default branch (`origin/HEAD`, as for a branch's first push). Documented in docs/cli-run.md.
 */
import path from 'node:path';
import { describeChanges } from '../lib/pipeline/conditions';
import type { PipelineSpec } from '../lib/pipeline';
import { UsageError } from './errors';
import { gitOutput } from './commands/run-inputs';

export interface ChangedFilesOptions {
  changed?: string[];
  changedSince?: string;
}

/** The files for the trigger (undefined = unknown: path filters hold) and a line saying where they come from. */
export interface ChangedFiles {
  files: string[] | undefined;
  note: string | null;
}

export function usesPathFilters(spec: PipelineSpec): boolean {
  return spec.triggers.some((t) => t.paths.length > 0) || spec.stages.some((stage) => stage.when.some((when) => when.changes.length > 0));
}

/** Throws UsageError for `--changed` with `--changed-since`, or a `--changed-since` git cannot answer. */
export function changedFiles(spec: PipelineSpec, pipelineFile: string, options: ChangedFilesOptions): ChangedFiles {
  if (options.changed !== undefined && options.changedSince !== undefined) throw new UsageError('give --changed or --changed-since, not both');
  if (options.changed !== undefined) return { files: options.changed, note: null };
  if (options.changedSince?.startsWith('-')) throw new UsageError(`--changed-since ${options.changedSince}: expected a commit or branch`);
  // Git is asked only when something depends on the answer (or when it was asked for explicitly).
  if (options.changedSince === undefined && !usesPathFilters(spec)) return { files: undefined, note: null };
  const dir = path.dirname(path.resolve(pipelineFile));
  const unknown = (why: string): ChangedFiles => {
    if (options.changedSince !== undefined) throw new UsageError(`--changed-since ${options.changedSince}: ${why}`);
    return { files: undefined, note: `the changed files are unknown, so path filters hold: ${why} (pass --changed FILE... or --changed-since REF)` };
  };
  const top = gitOutput(dir, ['rev-parse', '--show-toplevel'])?.trim();
  if (top === undefined) return unknown(`${dir} is not in a git checkout`);
  if (gitOutput(top, ['rev-parse', '--verify', '--quiet', 'HEAD']) === undefined) return unknown('the checkout has no commit yet');
  const base = options.changedSince ?? defaultBase(top);
  if (base === undefined) return unknown('the current branch has no upstream and the remote has no default branch (origin/HEAD) to compare with');
  const mergeBase = gitOutput(top, ['merge-base', base, 'HEAD'])?.trim();
  if (mergeBase === undefined) return unknown(`"${base}" is not a commit or branch of this checkout, or shares no history with HEAD`);
  const diff = gitOutput(top, ['diff', '--name-only', '--no-renames', '--no-relative', '--no-color', '-z', mergeBase]) ?? '';
  const untracked = gitOutput(top, ['ls-files', '--others', '--exclude-standard', '-z']) ?? '';
  const files = [...new Set([...diff.split('\0'), ...untracked.split('\0')])].filter((file) => file !== '').sort();
  return { files, note: `changed files since ${base} (working tree included): ${describeChanges(files)}` };
}

/** The branch a push of HEAD would be compared with: its upstream, else the remote's default branch. */
function defaultBase(top: string): string | undefined {
  return (
    gitOutput(top, ['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{upstream}'])?.trim() ??
    gitOutput(top, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'])?.trim()
  );
}
