/**
 * Issue 14's acceptance for big logs: a stage printing 1,000,000 lines; its run page loads, scrolls to the
 * end, searches, and follows the tail while the lines arrive, with no long task over 200 ms in Chromium
 * (PerformanceObserver `longtask`). The only timing asserted is that bound; the times are printed (and
 * compared with the raw download by bench/log-viewer.bench.ts). BuildIt, its database and the private Docker
 * engine run behind Chromium in CPU priority (nice 10) and on the machine's last CPU (tests/support/cpu.ts): on
 * a user's machine the page does not share two cores with the server taking in the lines it shows, and here its
 * long tasks were mostly time spent waiting for a core (traced: the longest used 15–70 ms of CPU and 100–230 ms
 * of wall time; with priority alone, 2 of 7 CI runs saw one over 200 ms). The bound is on the page's own work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumOrSkip } from '../support/browser';
import { SERVER_CPU } from '../support/cpu';
import { dockerOrSkip, reniceScriptEngine } from '../support/engines';
import { reniceServer } from '../support/db';
import { deferrer, openSignedInPage, launchWebApp } from '../support/web';
import { measureMillionLines } from './run-page-million';

const LONG_TASK_BOUND_MS = 200;

test('a million-line log: load, scroll to the end, search and follow the tail without a long task over 200 ms', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const defer = deferrer(t);
  const app = await launchWebApp(defer, { BUILDIT_WORKER_GRACE_MS: '2000' }, { niceness: 10, cpu: SERVER_CPU });
  await reniceServer(app.db, 10, SERVER_CPU);
  t.diagnostic(
    reniceScriptEngine(10, SERVER_CPU) ? 'the Docker engine runs behind Chromium too' : 'DOCKER_HOST is not the private engine: its priority is left as it is',
  );
  t.diagnostic('BuildIt ready');
  const figures = await measureMillionLines(
    app,
    () => openSignedInPage(defer, browser, app, { report: (message) => t.diagnostic(message) }),
    (message) => t.diagnostic(message),
  );
  const longest = Math.max(0, ...figures.longTasks);
  t.diagnostic(
    `first lines ${figures.firstLinesMs.toFixed(0)} ms, all loaded ${figures.loadedMs.toFixed(0)} ms, scroll to the end ${figures.scrollToEndMs.toFixed(0)} ms, ` +
      `search ${figures.searchMs.toFixed(0)} ms, live follow to the last line ${figures.followMs.toFixed(0)} ms; ` +
      `${figures.longTasks.length} long tasks, longest ${longest.toFixed(0)} ms`,
  );
  assert.ok(longest <= LONG_TASK_BOUND_MS, `a long task of ${longest.toFixed(0)} ms (all: ${figures.longTasks.map((ms) => ms.toFixed(0)).join(', ')})`);
});
