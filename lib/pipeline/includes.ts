/**
 * `include "ci/common.kdl"`: another file of the repository read into the pipeline (its stages,
 * templates, variables, caches, env and defaults; never a `pipeline` node). Reading files is the
 * caller's (`LoadOptions.readInclude`): lib/pipeline stays free of I/O. Paths are relative to the
 * repository root and may not leave it. A file included twice (two files include a common one) is read
 * once; a file that includes itself, directly or not, is a cycle.
 */
import { placeOf, type DiagnosticCollector, type Span } from './diagnostics';
import { KdlSource } from './kdl';
import { decodeUtf8 } from './utf8';

/** The text of a file of the repository by its path from the root, or null when there is no such file. */
export type IncludeReader = (path: string) => string | Uint8Array | null;

/** Included files by path, read and decoded once for both passes of `loadPipeline`. */
export class IncludeSources {
  private readonly sources = new Map<string, { source: KdlSource } | { missing: true } | { badByte: { byte: number; span: Span } }>();

  constructor(readonly read: IncludeReader | undefined) {}

  get(path: string): { source: KdlSource } | { missing: true } | { badByte: { byte: number; span: Span } } {
    let entry = this.sources.get(path);
    if (entry === undefined) {
      const raw = this.read!(path);
      if (raw === null) entry = { missing: true };
      else if (typeof raw === 'string') entry = { source: new KdlSource(raw) };
      else {
        const decoded = decodeUtf8(raw);
        entry = decoded.ok ? { source: new KdlSource(decoded.text) } : { badByte: { byte: decoded.byte, span: decoded.span } };
      }
      this.sources.set(path, entry);
    }
    return entry;
  }
}

/** One pass's walk through the includes: which files are open (for cycles) and which were read. */
export class IncludeWalk {
  private readonly open: Array<{ path: string; span: Span | null }>;
  private readonly done = new Set<string>();

  constructor(
    private readonly sources: IncludeSources,
    mainPath: string,
  ) {
    this.open = [{ path: mainPath, span: null }];
  }

  /** The source to read for `include "path"` at `span`, or null (reported, or already read). */
  enter(path: string, span: Span, diagnostics: DiagnosticCollector): KdlSource | null {
    const problem = pathProblem(path);
    if (problem) {
      diagnostics.error(span, 'include', `cannot include "${path}": ${problem}`, 'write a path from the root of the repository, e.g. "ci/common.kdl"');
      return null;
    }
    if (this.sources.read === undefined) {
      diagnostics.error(
        span,
        'include',
        `cannot include "${path}": this pipeline is not read from a repository`,
        'keep the pipeline in its repository (the server reads it at the run commit), or copy the included file in',
      );
      return null;
    }
    const cycleStart = this.open.findIndex((entry) => entry.path === path);
    if (cycleStart !== -1) {
      const chain = [...this.open.slice(cycleStart).map((entry) => entry.path), path].join(' -> ');
      const first = this.open[cycleStart + 1]?.span;
      diagnostics.error(
        span,
        'include',
        `include cycle: ${chain}`,
        first ? `"${this.open[cycleStart + 1]!.path}" is included at ${placeOf(first, span)}` : undefined,
      );
      return null;
    }
    if (this.done.has(path)) return null;
    const entry = this.sources.get(path);
    if ('missing' in entry) {
      diagnostics.error(span, 'include', `cannot include "${path}": there is no such file in the repository`);
      return null;
    }
    if ('badByte' in entry) {
      const byte = `0x${entry.badByte.byte.toString(16).padStart(2, '0')}`;
      diagnostics.forFile(path).error(entry.badByte.span, 'encoding', `the file is not valid UTF-8 (byte ${byte})`, 'save the file as UTF-8');
      return null;
    }
    this.done.add(path);
    this.open.push({ path, span });
    return entry.source;
  }

  leave(): void {
    this.open.pop();
  }
}

function pathProblem(path: string): string | null {
  if (path === '') return 'the path is empty';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'the path is absolute';
  if (path.split(/[\\/]/).includes('..')) return '`..` would leave the repository';
  return null;
}

/**
 * The files a pipeline includes, directly or not, read with an async reader (a server reads them from the
 * repository at the run's commit before planning, which is sync). Problems (syntax, missing files) are left
 * to `loadPipeline`, which reports them with positions.
 */
export async function readIncludedFiles(text: string, read: (path: string) => Promise<string | null>): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const pending = includePaths(text);
  for (let path = pending.shift(); path !== undefined; path = pending.shift()) {
    if (Object.hasOwn(files, path) || pathProblem(path) !== null) continue;
    const content = await read(path);
    if (content === null) continue;
    files[path] = content;
    pending.push(...includePaths(content));
  }
  return files;
}

/** The paths of a file's top-level `include` nodes (none when it is not valid KDL). */
function includePaths(text: string): string[] {
  const source = new KdlSource(text);
  for (const version of [2, 1] as const) {
    try {
      return source
        .parse(version, false)
        .nodes.filter((node) => node.getName() === 'include')
        .map((node) => node.getArgument(0))
        .filter((path): path is string => typeof path === 'string');
    } catch {
      // the other version, then nothing
    }
  }
  return [];
}
