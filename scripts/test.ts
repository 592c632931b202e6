/**
 * `npm test [-- PATTERN...]`: runs every `*.test.ts` in the repository with node's test runner.
 * - Starts one throwaway PostgreSQL for the whole run (tests clone a migrated template database from it)
 *   and stops it afterwards, whatever happens.
 * - Uses the project's private Docker engine (scripts/docker-engine.sh) when it is up; with
 *   BUILDIT_REQUIRE_ENGINES=1 the engine tests fail instead of skipping when it is not.
 * - Runs the files of RUN_ALONE last, one at a time.
 * - Prints `N passed, N failed` (and skipped) as the very last line.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startThrowawayPostgres } from '../tests/support/postgres';
import { buildWebIfStale } from './build-web';

const root = path.resolve(import.meta.dirname, '..');
const SEARCHED_DIRS = ['app', 'bench', 'cli', 'components', 'lib', 'scripts', 'tests', 'worker'];
/** Tests that start the whole BuildIt (scripts/start.ts) and so need a current production build of the web. */
const WEB_E2E_DIRS = ['tests/start/', 'tests/server/', 'tests/web/'];
/**
 * Run after the others, alone: they measure the page's long tasks in Chromium, and on a machine busy with
 * other test files the renderer waiting for a core counts as the page's own time.
 */
const RUN_ALONE = ['tests/web/run-page-million.test.ts'];
const PRIVATE_DOCKER_SOCKET = path.join(process.env.BUILDIT_DOCKER_DIR ?? '/tmp/buildit-docker', 'docker.sock');

function findTestFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : findTestFiles(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

function selectTestFiles(patterns: string[]): string[] {
  const all = SEARCHED_DIRS.flatMap((dir) => findTestFiles(path.join(root, dir)))
    .map((file) => path.relative(root, file))
    .sort();
  return patterns.length === 0 ? all : all.filter((file) => patterns.some((pattern) => file.includes(pattern)));
}

function runNodeTests(
  files: string[],
  env: NodeJS.ProcessEnv,
  summaryFile: string,
  concurrency = process.env.BUILDIT_TEST_CONCURRENCY ?? '2',
): Promise<number> {
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/test-summary-reporter.mjs',
    `--test-reporter-destination=${summaryFile}`,
    ...files,
  ];
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

function readSummary(summaryFile: string): { pass: number; fail: number; skipped: number } | null {
  try {
    const totals = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, number>;
    return { pass: totals.pass ?? 0, fail: (totals.fail ?? 0) + (totals.cancelled ?? 0), skipped: totals.skipped ?? 0 };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const files = selectTestFiles(process.argv.slice(2));
  if (files.length === 0) {
    console.error(`no test file matches: ${process.argv.slice(2).join(' ')}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }

  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', NO_COLOR: process.env.NO_COLOR ?? '1' };
  if (!env.DOCKER_HOST && existsSync(PRIVATE_DOCKER_SOCKET)) env.DOCKER_HOST = `unix://${PRIVATE_DOCKER_SOCKET}`;

  // Built once here: several end-to-end files starting at once must not each start a `next build` in .next.
  if (files.some((file) => WEB_E2E_DIRS.some((dir) => file.startsWith(dir)))) {
    await buildWebIfStale({ ...env, NODE_ENV: 'production' }, (line) => console.log(`[build] ${line}`));
  }

  const postgres = env.BUILDIT_TEST_PG_URL ? null : await startThrowawayPostgres();
  if (postgres) env.BUILDIT_TEST_PG_URL = postgres.adminUrl;

  const summaryDir = mkdtempSync(path.join(tmpdir(), 'buildit-test-'));
  const batches = [files.filter((file) => !RUN_ALONE.includes(file)), files.filter((file) => RUN_ALONE.includes(file))].filter((batch) => batch.length > 0);
  let exitCode = 0;
  const summaries: Array<ReturnType<typeof readSummary>> = [];
  try {
    for (const [index, batch] of batches.entries()) {
      const summaryFile = path.join(summaryDir, `summary-${index}.json`);
      exitCode = (await runNodeTests(batch, env, summaryFile, index === 0 ? undefined : '1')) || exitCode;
      summaries.push(readSummary(summaryFile));
    }
  } finally {
    await postgres?.stop();
  }
  rmSync(summaryDir, { recursive: true, force: true });
  type Summary = NonNullable<ReturnType<typeof readSummary>>;
  const summary = summaries.includes(null)
    ? null
    : (summaries as Summary[]).reduce((total, part) => ({ pass: total.pass + part.pass, fail: total.fail + part.fail, skipped: total.skipped + part.skipped }));
  if (!summary) {
    console.log('the test runner ended without a summary');
    console.log('0 passed, 1 failed');
    process.exit(exitCode || 1);
  }
  console.log(`${summary.pass} passed, ${summary.fail} failed, ${summary.skipped} skipped`);
  process.exit(summary.fail > 0 ? 1 : exitCode);
}

void main();
