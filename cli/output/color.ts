/**
 * Terminal colours, off unless the stream is a TTY, and never when NO_COLOR is set (no-color.org)
 * or TERM=dumb. FORCE_COLOR=1 turns them on for a non-TTY (tests, `less -R`).
 */
export interface Palette {
  enabled: boolean;
  paint(code: number, text: string): string;
  /** A stable colour per stage id, so a stage keeps its colour across runs. */
  stage(id: string, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

/** Not red or green: those mean failure and success. */
const STAGE_COLOURS = [36, 35, 33, 34, 96, 95, 93, 94];

export function colorEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** FNV-1a: cheap, stable across runs and machines. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function stageColour(id: string): number {
  return STAGE_COLOURS[hash(id) % STAGE_COLOURS.length]!;
}

export function createPalette(enabled: boolean): Palette {
  const paint = (code: number, text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    enabled,
    paint,
    stage: (id, text) => paint(stageColour(id), text),
    bold: (text) => paint(1, text),
    dim: (text) => paint(2, text),
    red: (text) => paint(31, text),
    green: (text) => paint(32, text),
    yellow: (text) => paint(33, text),
  };
}
