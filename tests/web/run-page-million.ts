/**
 * The 1,000,000-line acceptance of issue 14, shared by tests/web/run-page-million.test.ts (which checks the
 * long-task bound) and bench/log-viewer.bench.ts (which prints the times): a stage printing a million lines,
 * its tail followed on its run page while the lines arrive; the page loaded again, scrolled to the end and searched, with
 * every long task Chromium reports (PerformanceObserver `longtask`) recorded.
 */
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import type { Run } from '../../lib/api/schemas/runs';
import type { SignedInPage, WebApp } from '../support/web';
import { IMAGE, startRun, waitForRun } from './run-page-support';

export const MILLION = 1_000_000;
export const MILLION_KDL = `pipeline "million" { on "manual"; }
stage "print" {
    image "${IMAGE}"
    approval
    run "seq 1 ${MILLION}"
}
`;

export interface MillionFigures {
  /** The finished run's million-line stage (for the raw download). */
  finished: { runId: string; stageRunId: string };
  /** From navigation to the first lines on screen. */
  firstLinesMs: number;
  /** From navigation to all lines held by the page. */
  loadedMs: number;
  scrollToEndMs: number;
  /** From typing the query to its one match shown. */
  searchMs: number;
  /** From the approval on the page to the last line on screen, the tail followed live. */
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

/**
 * One million-line run: its page opened while the stage waits for approval, approved there, then following
 * the tail to the last line; then the page opened again on the finished run: loaded, scrolled to the end,
 * searched. (The approval makes "the page is open before the stage prints" certain: opened at the same
 * time, the page's first render competed for the two cores with the flood of lines it then follows.)
 */
export async function measureMillionLines(
  app: WebApp,
  watched: () => Promise<SignedInPage>,
  progress: (message: string) => void = () => {},
): Promise<MillionFigures> {
  const live = await watched();
  const run: Run = await startRun(app, 'million', MILLION_KDL);
  await live.page.goto(`${app.base}/runs/${run.id}?stage=print`);
  await log(live.page).getByRole('button', { name: 'Follow', pressed: true }).waitFor();
  const followStart = performance.now();
  await live.page.getByRole('button', { name: 'Approve', exact: true }).click();
  await log(live.page).locator(`[data-line="${MILLION}"]`).waitFor({ timeout: 240_000 });
  const followMs = performance.now() - followStart;
  progress(`followed the tail to line ${MILLION} in ${followMs.toFixed(0)} ms`);
  await waitForRun(app, run.id, (done) => done.status === 'succeeded');
  const longTasks = await live.longTasks();
  await live.page.close();

  const { page, longTasks: moreLongTasks } = await watched();
  const start = performance.now();
  await page.goto(`${app.base}/runs/${run.id}?stage=print`);
  await log(page).locator('[data-line="1"]').waitFor({ timeout: 120_000 });
  const firstLinesMs = performance.now() - start;
  await waitForLineCount(page, MILLION);
  await log(page).and(page.locator('[aria-busy="false"]')).waitFor();
  const loadedMs = performance.now() - start;
  progress(`loaded: first lines in ${firstLinesMs.toFixed(0)} ms, all in ${loadedMs.toFixed(0)} ms`);

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
  longTasks.push(...(await moreLongTasks()));
  return { finished: { runId: run.id, stageRunId: run.stages[0]!.id }, firstLinesMs, loadedMs, scrollToEndMs, searchMs, followMs, longTasks };
}

/** The whole log as a file, through the raw download (GET .../logs/raw), with the owner's token. */
export async function downloadRawLog(app: WebApp, runId: string, stageRunId: string): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  const text = await app.raw(`/api/v1/runs/${runId}/stages/${stageRunId}/logs/raw`);
  return { ms: performance.now() - start, bytes: Buffer.byteLength(text) };
}
