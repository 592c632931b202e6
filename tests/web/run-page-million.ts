/**
 * The 1,000,000-line acceptance of issue 14, shared by tests/web/run-page-million.test.ts (which checks the
 * long-task bound) and bench/log-viewer.bench.ts (which prints the times): a stage printing a million lines,
 * its run page loaded, scrolled to the end, searched, and its tail followed while the lines arrive, with
 * every long task Chromium reports (PerformanceObserver `longtask`) recorded.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import type { Run } from '../../lib/api/schemas/runs';
import { IMAGE, startRun, waitForRun, type App, type WatchedPage } from './run-page-support';

export const MILLION = 1_000_000;
export const MILLION_KDL = `pipeline "million" { on "manual"; }
stage "print" {
    image "${IMAGE}"
    run "seq 1 ${MILLION}"
}
`;

export interface MillionFigures {
  /** From navigation to the first lines on screen. */
  firstLinesMs: number;
  /** From navigation to all lines held by the page. */
  loadedMs: number;
  scrollToEndMs: number;
  /** From typing the query to its one match shown. */
  searchMs: number;
  /** From the run's start to its last line on screen, the tail followed live. */
  followMs: number;
  /** Every long task of both pages, ms. */
  longTasks: number[];
}

const log = (page: Page) => page.getByRole('region', { name: 'Log' });
const timed = async (step: () => Promise<unknown>) => {
  const start = performance.now();
  await step();
  return performance.now() - start;
};

async function waitForLineCount(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (wanted) => document.querySelector('[aria-label="Log"] [data-line-count]')?.getAttribute('data-line-count') === String(wanted),
    count,
    {
      timeout: 240_000,
    },
  );
}

/** A finished million-line run: load, scroll to the end, search. Then a second one followed live. */
export async function measureMillionLines(app: App, watched: () => Promise<WatchedPage>): Promise<MillionFigures> {
  const finished = await startRun(app, 'million', MILLION_KDL);
  await waitForRun(app, finished.id, (run) => run.status === 'succeeded', 300_000);

  const first = await watched();
  const page = first.page;
  const start = performance.now();
  await page.goto(`${app.base}/runs/${finished.id}?stage=print`);
  await log(page).locator('[data-line="1"]').waitFor({ timeout: 120_000 });
  const firstLinesMs = performance.now() - start;
  await waitForLineCount(page, MILLION);
  await log(page).and(page.locator('[aria-busy="false"]')).waitFor();
  const loadedMs = performance.now() - start;

  const scrollToEndMs = await timed(async () => {
    await page.getByRole('button', { name: 'Follow' }).click();
    await log(page).locator(`[data-line="${MILLION}"]`).waitFor();
  });
  const searchMs = await timed(async () => {
    await page.getByRole('searchbox', { name: 'Search log' }).fill('999999');
    await page.getByRole('searchbox', { name: 'Search log' }).press('Enter');
    await log(page).getByText('1 of 1', { exact: true }).waitFor({ timeout: 60_000 });
    await log(page).locator('[data-line="999999"]').waitFor();
  });
  const longTasks = await first.longTasks();

  // Live: the page is open before the stage prints, and follows the tail to the last line.
  const second = await watched();
  const live: Run = await startRun(app, 'million live', MILLION_KDL);
  const followStart = performance.now();
  await second.page.goto(`${app.base}/runs/${live.id}?stage=print`);
  await log(second.page).getByRole('button', { name: 'Follow', pressed: true }).waitFor();
  await log(second.page).locator(`[data-line="${MILLION}"]`).waitFor({ timeout: 300_000 });
  const followMs = performance.now() - followStart;
  await waitForRun(app, live.id, (run) => run.status === 'succeeded');
  longTasks.push(...(await second.longTasks()));
  assert.equal(await second.page.locator('[aria-label="Log"] [data-line-count]').getAttribute('data-line-count'), String(MILLION));

  return { firstLinesMs, loadedMs, scrollToEndMs, searchMs, followMs, longTasks };
}

/** The whole log as a file, through the raw download (GET .../logs/raw), with the owner's token. */
export async function downloadRawLog(app: App, runId: string, stageRunId: string): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  const text = await app.raw(`/api/v1/runs/${runId}/stages/${stageRunId}/logs/raw`);
  return { ms: performance.now() - start, bytes: Buffer.byteLength(text) };
}
