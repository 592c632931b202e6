/** The examples of the pipeline language run for real: `buildit run --json` in a scratch directory (tests/language). */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { RunEvent } from '../../lib/events/types';
import { TEST_IMAGE } from './engines';
import { EXAMPLES_DIR } from './pipeline-fixtures';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'cli', 'bin.mjs');

export interface LanguageRun {
  code: number | null;
  events: RunEvent[];
  stderr: string;
}

/** An example with its images swapped for the test image (examples name real ones; the test engine has no registry). */
export async function exampleText(name: string): Promise<string> {
  const text = await readFile(path.join(EXAMPLES_DIR, `${name}.kdl`), 'utf8');
  return text.replace(/image "[^"]+"/g, `image "${TEST_IMAGE}"`);
}

export async function scratchDir(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'buildit-language-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

export function builditRun(args: string[], cwd: string): Promise<LanguageRun> {
  const child = spawn(process.execPath, [BIN, 'run', '--json', ...args], { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        stderr,
        events: stdout
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as RunEvent),
      }),
    ),
  );
}

/** Final status of each stage, by id. */
export function stageStatuses(events: RunEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const event of events) if (event.type === 'stage.finished') out[event.stage] = event.status;
  return out;
}

export function stageLines(events: RunEvent[], stage: string): string[] {
  return events.flatMap((event) => (event.type === 'stage.log' && event.stage === stage ? [event.line] : []));
}
