/**
 * The run page's log viewer with a stage of 1,000,000 lines (issue 14), in Chromium against a whole BuildIt
 * (web + worker on the Docker engine; tests/web/run-page-million.ts does the steps): the page's time to
 * show the first lines, to hold all of them, to scroll to the end, to find a line, and to follow the tail of
 * a second run live to its last line, with the longest long task. The baseline, measured in the same run,
 * is the download of the same log as a file (GET .../logs/raw): the ratios say what the viewer costs over
 * merely fetching the bytes.
 *
 * Env: BENCH_LOG_DOWNLOADS (default 5). Needs DOCKER_HOST (scripts/docker-engine.sh), Chromium
 * (BUILDIT_CHROMIUM or /usr/bin/chromium), and a production build in BUILDIT_NEXT_DIST_DIR (built if stale).
 */
import { launchChromium } from '../tests/support/browser';
import { SERVER_CPU } from '../tests/support/cpu';
import { reniceServer } from '../tests/support/db';
import { launchWebApp, openSignedInPage } from '../tests/support/web';
import { downloadRawLog, MILLION, measureMillionLines } from '../tests/web/run-page-million';
import { printRatio, summarize } from './support';
import { cleanup, onCleanup } from './support-db';

const downloads = Number(process.env.BENCH_LOG_DOWNLOADS ?? 5);

async function main(): Promise<void> {
  if (!process.env.DOCKER_HOST) throw new Error('DOCKER_HOST is not set: run scripts/docker-engine.sh up and export DOCKER_HOST');
  const app = await launchWebApp(onCleanup, { BUILDIT_WORKER_GRACE_MS: '2000' }, { niceness: 10, cpu: SERVER_CPU });
  await reniceServer(app.db, 10, SERVER_CPU);
  const browser = await launchChromium();
  onCleanup(() => browser.close());

  const figures = await measureMillionLines(app, () => openSignedInPage(onCleanup, browser, app));
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < downloads; i++) {
    const download = await downloadRawLog(app, figures.finished.runId, figures.finished.stageRunId);
    samples.push(download.ms);
    bytes = download.bytes;
  }
  const baseline = summarize(samples);
  console.log(
    `raw download of ${MILLION.toLocaleString('en')} lines (${(bytes / 1024 / 1024).toFixed(1)} MiB): p50 ${baseline.p50.toFixed(0)} ms, ${downloads} runs`,
  );
  const one = (ms: number) => summarize([ms]);
  for (const [name, ms] of [
    ['first lines on screen', figures.firstLinesMs],
    ['all lines loaded', figures.loadedMs],
    ['scroll to the end', figures.scrollToEndMs],
    ['search (one match)', figures.searchMs],
    ['live run followed to its last line', figures.followMs],
  ] as const) {
    printRatio(`log viewer, ${name} vs raw download`, ms / baseline.p50, one(ms), baseline);
  }
  const longest = Math.max(0, ...figures.longTasks);
  console.log(`long tasks: ${figures.longTasks.length}, longest ${longest.toFixed(0)} ms (bound 200 ms: ${longest <= 200 ? 'met' : 'MISSED'})`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
