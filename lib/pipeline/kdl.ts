/**
 * KDL reading: v2 first, then v1 (files carry no version marker). Syntax errors are reported from the
 * v2 attempt, because that is the language we document, unless the v1 parse succeeds.
 * `@bgotink/kdl` is used (not kdljs) because it keeps source locations and reads both versions.
 *
 * Storing locations makes that parse 2–3x slower (the library keeps them in a global WeakMap), and
 * only diagnostics need them, so a pipeline is read in up to two passes (see `loadPipeline`): spans
 * come from a `Locator`, either the stored locations of a located parse or `LazyLocations`, which
 * re-parses the source once with locations the first time a span is actually read.
 */
import { parse as parseV2, getLocation, InvalidKdlError, type Document, type Node, type Value } from '@bgotink/kdl';
import { parse as parseV1 } from '@bgotink/kdl/v1-compat';
import { START_OF_FILE, type DiagnosticCollector, type Span } from './diagnostics';
import { countOpenings } from './interpolate';

export type KdlVersion = 1 | 2;

/** A parsed element that can have a location. */
export type Locatable = Parameters<typeof getLocation>[0];

const PARSERS: Record<KdlVersion, (text: string, options?: { storeLocations?: boolean }) => Document> = { 2: parseV2, 1: parseV1 };

/**
 * One pipeline's text. Keeps its located parses, so that a file is parsed with locations at most
 * once, and its parse errors: the parser fails the same way with or without locations, so invalid
 * KDL is never parsed twice.
 */
export class KdlSource {
  private readonly located = new Map<KdlVersion, Document>();
  private readonly errors = new Map<KdlVersion, { error: unknown }>();

  constructor(readonly text: string) {}

  /** Throws the parser's error on invalid KDL. */
  parse(version: KdlVersion, storeLocations: boolean): Document {
    const failed = this.errors.get(version);
    if (failed) throw failed.error;
    try {
      if (!storeLocations) return PARSERS[version](this.text);
      let document = this.located.get(version);
      if (document === undefined) {
        document = PARSERS[version](this.text, { storeLocations: true });
        this.located.set(version, document);
      }
      return document;
    } catch (error) {
      this.errors.set(version, { error });
      throw error;
    }
  }
}

export function readKdl(source: KdlSource, diagnostics: DiagnosticCollector, storeLocations: boolean): { document: Document; version: KdlVersion } | null {
  let v2Error: unknown;
  try {
    return { document: source.parse(2, storeLocations), version: 2 };
  } catch (error) {
    v2Error = error;
  }
  try {
    return { document: source.parse(1, storeLocations), version: 1 };
  } catch {
    reportSyntaxErrors(v2Error, diagnostics);
    return null;
  }
}

function reportSyntaxErrors(error: unknown, diagnostics: DiagnosticCollector): void {
  if (!(error instanceof InvalidKdlError)) {
    // Not a syntax error (e.g. a stack overflow on absurd nesting): still a diagnostic, never a throw.
    const reason = error instanceof Error ? error.message : String(error);
    diagnostics.error(START_OF_FILE, 'syntax', `invalid KDL: ${reason}`);
    return;
  }
  for (const detail of error.flat()) {
    const start = detail.start ?? detail.token?.start;
    const span: Span = start ? { line: start.line, column: start.column } : START_OF_FILE;
    const message = cleanMessage(detail.message);
    diagnostics.error(span, 'syntax', `invalid KDL: ${message}`, syntaxHint(message));
  }
}

/** The parser's messages say what it saw; these say what the author probably forgot. */
function syntaxHint(message: string): string | undefined {
  if (message.includes('EOF inside string')) return 'a string is not closed: add the missing `"`';
  if (message.includes('end of input')) return 'a block is not closed: add the missing `}`';
  if (message.startsWith('Invalid keyword')) return 'KDL v2 writes #true, #false and #null; KDL v1 files are read too, but this one is not valid v1 either';
  return undefined;
}

/** The parser appends " at LINE:COL"; the diagnostic already carries the position. */
function cleanMessage(message: string): string {
  return message.replace(/ at \d+:\d+$/, '');
}

/** The `refSpans` of every string without `${`: one shared array (never changed), as most strings have none. */
const NO_SPANS: Span[] = [];

/** Where the parsed elements of one document are in the source. */
export interface Locator {
  /** Start of a parsed element, 1-based; the start of the file when the parser stored nothing. */
  spanOf(element: Locatable): Span;
  /** Source position of each `${` of a string value (`value` is its parsed text). */
  refSpansOf(element: Value, value: string): Span[];
}

/** The locations stored by a parse with `storeLocations: true`. */
export class StoredLocations implements Locator {
  constructor(
    private readonly source: string,
    private readonly file: string,
  ) {}

  spanOf(element: Locatable): Span {
    const location = getLocation(element);
    return location ? { line: location.start.line, column: location.start.column, file: this.file } : { ...START_OF_FILE, file: this.file };
  }

  /** Each `${` mapped back to its source position when the raw text allows it, else the value's own position. */
  refSpansOf(element: Value, value: string): Span[] {
    const count = countOpenings(value);
    if (count === 0) return NO_SPANS;
    const span = this.spanOf(element);
    const location = getLocation(element);
    const raw = location ? this.source.slice(location.start.offset, location.end.offset) : '';
    const rawOffsets: number[] = [];
    for (let i = raw.indexOf('${'); i !== -1; i = raw.indexOf('${', i + 2)) rawOffsets.push(i);
    // Escapes can create or hide `${` (e.g. `\u{24}{`); then only the value's own position is reliable.
    if (rawOffsets.length !== count) return Array.from({ length: count }, () => span);
    return rawOffsets.map((offset) => advance(span, raw, offset));
  }
}

function advance(start: Span, raw: string, offset: number): Span {
  const before = raw.slice(0, offset);
  const lastNewline = before.lastIndexOf('\n');
  const file = start.file === undefined ? {} : { file: start.file };
  if (lastNewline === -1) return { line: start.line, column: start.column + offset, ...file };
  const newlines = before.split('\n').length - 1;
  return { line: start.line + newlines, column: offset - lastNewline, ...file };
}

/**
 * For a document parsed without locations: spans that are resolved on first read, all at once, by
 * parsing the same text again with locations and pairing the two documents' elements (they have the
 * same shape). A spec that nobody asks for positions never pays for them; one that is kept also
 * keeps its parsed document (and, once resolved, the located one).
 */
export class LazyLocations implements Locator {
  private located: { counterparts: Map<Locatable, Locatable>; locations: StoredLocations } | undefined;
  private readonly refSpans = new Map<Value, Span[]>();

  constructor(
    private readonly source: KdlSource,
    private readonly version: KdlVersion,
    private readonly document: Document,
    readonly file: string,
  ) {}

  spanOf(element: Locatable): Span {
    return new LazySpan(this, element, -1);
  }

  refSpansOf(element: Value, value: string): Span[] {
    const count = countOpenings(value);
    if (count === 0) return NO_SPANS;
    const spans: Span[] = [];
    for (let i = 0; i < count; i++) spans.push(new LazySpan(this, element, i));
    return spans;
  }

  /** The real position of what `LazySpan` stands for (`occurrence` -1: the element itself). */
  resolve(element: Locatable, occurrence: number): Span {
    this.located ??= {
      counterparts: pairElements(this.document, this.source.parse(this.version, true)),
      locations: new StoredLocations(this.source.text, this.file),
    };
    const { counterparts, locations } = this.located;
    const located = counterparts.get(element) ?? element;
    if (occurrence < 0) return locations.spanOf(located);
    const value = element as Value;
    let spans = this.refSpans.get(value);
    if (spans === undefined) {
      spans = locations.refSpansOf(located as Value, String(value.getValue()));
      this.refSpans.set(value, spans);
    }
    return spans[occurrence] ?? locations.spanOf(located);
  }
}

/** Maps each node, node name, entry and value of `from` to the same element of `to`, an identical parse. */
function pairElements(from: Document, to: Document): Map<Locatable, Locatable> {
  const pairs = new Map<Locatable, Locatable>();
  // Iterative: nesting depth is the user's to choose.
  const stack: Array<[Node[], Node[]]> = [[from.nodes, to.nodes]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [fromNodes, toNodes] = top;
    fromNodes.forEach((node, i) => {
      const other = toNodes[i]!;
      pairs.set(node, other);
      pairs.set(node.name, other.name);
      node.entries.forEach((entry, j) => {
        pairs.set(entry, other.entries[j]!);
        pairs.set(entry.value, other.entries[j]!.value);
      });
      if (node.children && other.children) stack.push([node.children.nodes, other.children.nodes]);
    });
  }
  return pairs;
}

/** A `Span` resolved on first read; serializes as a plain `{ line, column, file }`. */
class LazySpan implements Span {
  readonly #locations: LazyLocations;
  readonly #element: Locatable;
  readonly #occurrence: number;
  #span: Span | undefined;

  constructor(locations: LazyLocations, element: Locatable, occurrence: number) {
    this.#locations = locations;
    this.#element = element;
    this.#occurrence = occurrence;
  }

  get line(): number {
    return this.#resolved().line;
  }

  get column(): number {
    return this.#resolved().column;
  }

  get file(): string {
    return this.#locations.file;
  }

  toJSON(): Span {
    return { line: this.line, column: this.column, file: this.file };
  }

  #resolved(): Span {
    return (this.#span ??= this.#locations.resolve(this.#element, this.#occurrence));
  }
}
