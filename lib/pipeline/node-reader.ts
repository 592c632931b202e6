/**
 * Typed access to one KDL node's arguments, properties and children, reporting every mismatch
 * (missing, extra, unknown, wrong type) as a diagnostic instead of throwing.
 */
import type { Entry, Node, Value } from '@bgotink/kdl';
import { didYouMean, type DiagnosticCollector, type Span } from './diagnostics';
import type { Locatable, Locator } from './kdl';
import type { Text } from './spec-types';

export interface ReadContext {
  diagnostics: DiagnosticCollector;
  locator: Locator;
}

export interface StringValue {
  value: string;
  span: Span;
  entry: Entry;
}

/**
 * One per node read, so it allocates little (a pipeline has thousands of nodes, and allocation is most
 * of what reading costs): its span is made when first used, and a node without properties has no map.
 */
export class NodeReader {
  readonly name: string;
  private nodeSpan: Span | undefined;
  private readonly argumentEntries: Entry[];
  private readonly propertyEntries: Map<string, Entry> | null;

  /** `misplaced`: hints for properties that belong to another node, by property name. */
  constructor(
    readonly node: Node,
    private readonly ctx: ReadContext,
    allowedProperties: readonly string[],
    misplaced: Readonly<Record<string, string>> = {},
  ) {
    this.name = node.getName();
    const entries = node.entries;
    const allArguments = entries.every((entry) => entry.isArgument());
    this.argumentEntries = allArguments ? entries : entries.filter((entry) => entry.isArgument());
    this.propertyEntries = allArguments ? null : this.collectProperties(allowedProperties, misplaced);
  }

  get span(): Span {
    return (this.nodeSpan ??= this.ctx.locator.spanOf(this.node.name));
  }

  get diagnostics(): DiagnosticCollector {
    return this.ctx.diagnostics;
  }

  get argumentCount(): number {
    return this.argumentEntries.length;
  }

  /** A required string argument (`what` names it in the message), or null after reporting. */
  requireString(index: number, what: string): StringValue | null {
    const entry = this.argumentEntries[index];
    if (entry === undefined) {
      this.ctx.diagnostics.error(this.span, 'missing-argument', `\`${this.name}\` needs ${what}`, `write \`${this.name} "..."\``);
      return null;
    }
    return this.stringOf(entry, () => `\`${this.name}\` takes ${what} as a string`);
  }

  /** All arguments from `from` on, each a string (wrong ones reported and left out). */
  stringArguments(from: number, what: string): StringValue[] {
    const out: StringValue[] = [];
    for (let i = from; i < this.argumentEntries.length; i++) {
      const value = this.stringOf(this.argumentEntries[i]!, () => `${what} of \`${this.name}\` must be strings`);
      if (value) out.push(value);
    }
    return out;
  }

  /** Reports arguments past `max` (for nodes whose arguments are fixed). */
  noArgumentsAfter(max: number): void {
    for (let i = max; i < this.argumentEntries.length; i++) {
      const entry = this.argumentEntries[i]!;
      const message =
        max === 0
          ? `\`${this.name}\` takes no arguments`
          : `\`${this.name}\` takes ${max} argument${max === 1 ? '' : 's'}; unexpected ${describe(entry.value)}`;
      this.ctx.diagnostics.error(this.spanOf(entry), 'unexpected-argument', message);
    }
  }

  property(name: string): Entry | undefined {
    return this.propertyEntries?.get(name);
  }

  stringProperty(name: string): StringValue | null {
    const entry = this.propertyEntries?.get(name);
    return entry ? this.stringOf(entry, () => `\`${name}\` must be a string`) : null;
  }

  /** A `#true`/`#false` property; null when it is absent or (after reporting) not a boolean. */
  booleanProperty(name: string): boolean | null {
    const entry = this.propertyEntries?.get(name);
    if (entry === undefined) return null;
    const value = entry.getValue();
    if (typeof value === 'boolean') return value;
    this.ctx.diagnostics.error(
      this.spanOf(entry.value),
      'type',
      `\`${name}\` must be #true or #false, got ${describe(entry.value)}`,
      `write \`${name}=#true\``,
    );
    return null;
  }

  requireStringProperty(name: string, example: string): StringValue | null {
    const entry = this.propertyEntries?.get(name);
    if (entry === undefined) {
      this.ctx.diagnostics.error(this.span, 'missing-property', `\`${this.name}\` needs a \`${name}\` property`, `write \`${name}=${example}\``);
      return null;
    }
    return this.stringOf(entry, () => `\`${name}\` must be a string`);
  }

  /** A whole-number argument within [min, max], or null after reporting. */
  requireInteger(index: number, min: number, max: number): number | null {
    const entry = this.argumentEntries[index];
    if (entry === undefined) {
      this.ctx.diagnostics.error(this.span, 'missing-argument', `\`${this.name}\` needs a number`, `write \`${this.name} ${min}\``);
      return null;
    }
    const value = entry.getValue();
    const span = this.spanOf(entry.value);
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.ctx.diagnostics.error(span, 'type', `\`${this.name}\` takes a whole number, got ${describe(entry.value)}`, `write e.g. \`${this.name} ${min}\``);
      return null;
    }
    if (value < min || value > max) {
      this.ctx.diagnostics.error(span, 'range', `\`${this.name}\` must be between ${min} and ${max}, got ${value}`);
      return null;
    }
    return value;
  }

  /** For flags like `allow-failure`: no argument = true, or one `#true`/`#false`. */
  flag(): boolean {
    const entry = this.argumentEntries[0];
    if (entry === undefined) return true;
    this.noArgumentsAfter(1);
    const value = entry.getValue();
    if (typeof value === 'boolean') return value;
    this.ctx.diagnostics.error(this.spanOf(entry.value), 'type', `\`${this.name}\` takes no value or #true/#false, got ${describe(entry.value)}`);
    return false;
  }

  /** The child nodes; reports a missing block when `required` (`example` shows one). */
  children(required: boolean, example: string | (() => string)): Node[] {
    const children = this.node.children?.nodes ?? [];
    if (required && this.node.children === null) {
      const shown = typeof example === 'string' ? example : example();
      this.ctx.diagnostics.error(this.span, 'missing-block', `\`${this.name}\` needs a block`, `write \`${shown}\``);
    }
    return children;
  }

  noChildren(): void {
    if (this.node.children === null) return;
    const first = this.node.children.nodes[0];
    const span = first ? this.spanOf(first.name) : this.span;
    this.ctx.diagnostics.error(span, 'unexpected-block', `\`${this.name}\` takes no block`);
  }

  text(value: StringValue): Text {
    return { value: value.value, span: value.span, refSpans: this.ctx.locator.refSpansOf(value.entry.value, value.value) };
  }

  spanOf(element: Locatable): Span {
    return this.ctx.locator.spanOf(element);
  }

  /** `expectation` makes the message up to ", got ..." (only when it is needed). */
  private stringOf(entry: Entry, expectation: () => string): StringValue | null {
    const value = entry.getValue();
    const span = this.spanOf(entry.value);
    if (typeof value !== 'string') {
      const hint = typeof value === 'number' ? `quote it: "${entry.value.representation ?? String(value)}"` : undefined;
      this.ctx.diagnostics.error(span, 'type', `${expectation()}, got ${describe(entry.value)}`, hint);
      return null;
    }
    return { value, span, entry };
  }

  private collectProperties(allowed: readonly string[], misplaced: Readonly<Record<string, string>>): Map<string, Entry> {
    const properties = new Map<string, Entry>();
    for (const entry of this.node.entries) {
      const name = entry.getName();
      if (name === null) continue;
      if (!allowed.includes(name)) {
        const known = allowed.length === 0 ? `\`${this.name}\` takes no properties` : `\`${this.name}\` takes ${allowed.map((p) => `\`${p}\``).join(', ')}`;
        this.ctx.diagnostics.error(
          this.spanOf(entry),
          'unknown-property',
          `unknown property \`${name}\` on \`${this.name}\``,
          (Object.hasOwn(misplaced, name) ? misplaced[name] : undefined) ?? didYouMean(name, allowed) ?? known,
        );
        continue;
      }
      if (properties.has(name)) {
        this.ctx.diagnostics.error(this.spanOf(entry), 'duplicate-property', `duplicate property \`${name}\` on \`${this.name}\``);
        continue;
      }
      properties.set(name, entry);
    }
    return properties;
  }
}

export function describe(value: Value): string {
  const primitive = value.getValue();
  if (typeof primitive === 'string') return `string ${JSON.stringify(truncate(primitive))}`;
  if (typeof primitive === 'number') return `number ${value.representation ?? String(primitive)}`;
  return `#${String(primitive)}`;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
