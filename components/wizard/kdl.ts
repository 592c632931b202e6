// The wizard's steps as pipeline KDL (v2). Every value is written as a quoted KDL string with its special
// characters escaped, so a name or command can never end its string early or add nodes. Names are written
// as typed: invalid ones are reported by lib/pipeline at the review step, at their line and column.
// Commands, images and env values are pipeline text, where `${...}` is interpolation (docs/pipeline-language.md).
import type { StageDraft, TriggersDraft, WizardDraft } from './draft';

const INDENT = '    ';

/** Code points KDL v2 does not allow literally in a string: controls, other newlines, BOM, direction marks. */
function mustEscape(code: number): boolean {
  return (
    code < 0x20 ||
    code === 0x7f ||
    code === 0x85 ||
    code === 0xfeff ||
    (code >= 0x200e && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** A KDL v2 quoted string: backslash, quote and control characters escaped (newlines as `\n`); a lone surrogate becomes U+FFFD. */
export function kdlString(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '\\') out += '\\\\';
    else if (char === '"') out += '\\"';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code >= 0xd800 && code <= 0xdfff) out += '\uFFFD';
    else if (mustEscape(code)) out += `\\u{${code.toString(16)}}`;
    else out += char;
  }
  return `${out}"`;
}

/** A node name: bare when it is a plain identifier (and not a v2 keyword), else quoted. */
export function kdlNodeName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !['true', 'false', 'null', 'inf', 'nan'].includes(name) ? name : kdlString(name);
}

const words = (text: string) => text.split(/\s+/).filter(Boolean);
const nonEmptyLines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

function triggerLines(triggers: TriggersDraft): string[] {
  const lines: string[] = [];
  const globs = (property: string, text: string) => {
    const [first, ...rest] = words(text);
    return first === undefined ? '' : ` ${property}=${kdlString(first)}${rest.map((glob) => ` ${kdlString(glob)}`).join('')}`;
  };
  if (triggers.push) lines.push(`on "push"${globs('branches', triggers.pushBranches)}`);
  if (triggers.pullRequest) lines.push('on "pull_request"');
  if (triggers.tag) lines.push(`on "tag"${globs('tags', triggers.tags)}`);
  if (triggers.schedule) lines.push(`on "schedule" cron=${kdlString(triggers.cron)}`);
  if (triggers.manual) lines.push('on "manual"');
  return lines;
}

function block(head: string, children: string[]): string {
  return children.length === 0 ? head : `${head} {\n${children.map((child) => `${INDENT}${child}`).join('\n')}\n}`;
}

function stageBlock(stage: StageDraft, namesByKey: Map<string, string>, secretNames: string[]): string {
  const children: string[] = [];
  const needs = stage.needs.flatMap((key) => namesByKey.get(key) ?? []);
  if (needs.length > 0) children.push(`needs ${needs.map(kdlString).join(' ')}`);
  if (stage.image.trim() !== '') children.push(`image ${kdlString(stage.image.trim())}`);
  for (const command of nonEmptyLines(stage.commands)) children.push(`run ${kdlString(command)}`);
  for (const name of secretNames) children.push(`secret ${kdlString(name)}`);
  // A stage without a block is an error in the language; an empty one is reported as "nothing to do".
  return children.length === 0 ? `stage ${kdlString(stage.name)} {\n}` : block(`stage ${kdlString(stage.name)}`, children);
}

/** The pipeline the wizard's answers describe. Secrets are given to every stage (`secret "NAME"`); their values are never in the text. */
export function generateKdl(draft: Pick<WizardDraft, 'name' | 'triggers' | 'stages' | 'env' | 'secrets'>): string {
  const parts = [block(`pipeline ${kdlString(draft.name)}`, triggerLines(draft.triggers))];
  const env = draft.env.filter((entry) => entry.name.trim() !== '');
  if (env.length > 0)
    parts.push(
      block(
        'env',
        env.map((entry) => `${kdlNodeName(entry.name.trim())} ${kdlString(entry.value)}`),
      ),
    );
  const secretNames = draft.secrets.map((secret) => secret.name.trim()).filter(Boolean);
  const namesByKey = new Map(draft.stages.map((stage) => [stage.key, stage.name]));
  for (const stage of draft.stages) parts.push(stageBlock(stage, namesByKey, secretNames));
  return `${parts.join('\n\n')}\n`;
}
