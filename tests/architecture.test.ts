// The dependency rule of DESIGN.md, checked on every import of the tree: `app`, `worker` and `cli` import
// `lib` and never each other; `lib` imports none of them; `lib/pipeline` imports nothing of ours outside
// itself. A violation names the file and the import.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOP = ['app', 'worker', 'cli', 'lib', 'server.ts', 'scripts', 'tests', 'bench'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'generated' || entry.name.startsWith('.') ? [] : sourceFiles(full);
    return /\.(ts|tsx|mts)$/.test(entry.name) ? [full] : [];
  });
}

/** Relative imports of a file, resolved to paths relative to the repository (`lib/runs/...`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => match[1]!);
  return specifiers.map((specifier) => path.relative(ROOT, path.resolve(path.dirname(file), specifier)));
}

const area = (relative: string) => relative.split(path.sep)[0]!;

/** Which top-level areas each area may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  lib: [],
  app: ['lib'],
  worker: ['lib'],
  cli: ['lib'],
};

test('app, worker and cli import lib and never each other; lib imports none of them', () => {
  const violations: string[] = [];
  for (const from of Object.keys(ALLOWED)) {
    for (const file of sourceFiles(path.join(ROOT, from))) {
      // Tests beside the code may use the cross-cutting test support.
      const allowed = file.endsWith('.test.ts') ? [...ALLOWED[from]!, 'tests'] : ALLOWED[from]!;
      for (const target of importsOf(file)) {
        const to = area(target);
        if (to !== from && TOP.includes(to) && !allowed.includes(to)) violations.push(`${path.relative(ROOT, file)} imports ${target}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('lib/pipeline depends on nothing of ours outside itself (it is pure and bundled for the browser)', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(path.join(ROOT, 'lib', 'pipeline'))) {
    if (file.endsWith('.test.ts')) continue;
    for (const target of importsOf(file))
      if (!target.startsWith(path.join('lib', 'pipeline'))) violations.push(`${path.relative(ROOT, file)} imports ${target}`);
  }
  assert.deepEqual(violations, []);
});

test('lib/auth decides access on its own: it imports nothing of lib/api (the API maps its errors)', () => {
  const violations = sourceFiles(path.join(ROOT, 'lib', 'auth'))
    .filter((file) => !file.endsWith('.test.ts'))
    .flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(path.join('lib', 'api')))
        .map((target) => `${path.relative(ROOT, file)} imports ${target}`),
    );
  assert.deepEqual(violations, []);
});

test('the checks above see the imports they are about (they can fail)', () => {
  assert.ok(importsOf(path.join(ROOT, 'worker', 'jobs', 'run-pipeline.ts')).some((target) => target.startsWith(path.join('lib', 'engine'))));
  assert.ok(sourceFiles(path.join(ROOT, 'cli')).length > 10);
});
