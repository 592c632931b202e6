/** Fixtures and goldens of the pipeline language's tests (lib/pipeline/*.test.ts): test support, outside the pure package. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../../lib/pipeline/diagnostics';
import type { TriggerContext } from '../../lib/pipeline/plan-types';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PIPELINE_DIR = path.join(REPO_ROOT, 'lib', 'pipeline');
export const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');
export const TESTDATA_DIR = path.join(PIPELINE_DIR, 'testdata');

/** `UPDATE_GOLDENS=1 node --import tsx --test lib/pipeline/*.test.ts` rewrites goldens; review the diff. */
export const UPDATE_GOLDENS = process.env.UPDATE_GOLDENS === '1';

export function kdlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.kdl'))
    .sort()
    .map((name) => path.join(dir, name));
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** Compares `actual` with the golden file, or writes it when updating goldens. */
export function golden(file: string, actual: string): string {
  if (UPDATE_GOLDENS) writeFileSync(file, actual);
  return readText(file);
}

/** A diagnostic as written in `.out` files: the formatted line without the file name. */
export function outLines(diagnostics: Diagnostic[]): string {
  return diagnostics.map((d) => `${d.line}:${d.column}: ${d.severity}: ${d.message}${d.hint === undefined ? '' : `\n  hint: ${d.hint}`}\n`).join('');
}

export const SHA = '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a';

export function pushTrigger(overrides: Partial<TriggerContext> = {}): TriggerContext {
  return {
    event: 'push',
    branch: 'main',
    sha: SHA,
    message: 'Fix the flaky test',
    author: 'Ada Lovelace',
    runId: 'run-0001',
    runNumber: 42,
    ...overrides,
  };
}

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce from the printed seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
