/**
 * The dashboard and the run history live, in a real Chromium against a whole BuildIt with its worker on the
 * Docker engine: a run triggered through the API while the dashboard is open appears in the recent runs (one
 * request: the recent runs read again), then its status and today's figures change as its events arrive, with
 * no further request. The run history filters by status in its URL, announces a run that starts without
 * reading anything, and shows it on request, its status then following the events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { sleep } from '../../lib/async';
import type { Run } from '../../lib/api/schemas/runs';
import { chromiumOrSkip } from '../support/browser';
import { TEST_IMAGE, dockerOrSkip } from '../support/engines';
import { signedInPage, startWebApp, type WebApp } from '../support/web';

// Three stages of a second or so: several status events after the run has appeared.
const KDL = `pipeline "live-demo" {
    on "manual"
}

stage "build" {
    image "${TEST_IMAGE}"
    run "sleep 1; echo built"
}

stage "test" needs="build" {
    image "${TEST_IMAGE}"
    run "sleep 1; echo tested"
}

stage "package" needs="test" {
    image "${TEST_IMAGE}"
    run "sleep 1; echo packaged"
}
`;

const RUN_TIMEOUT_MS = 120_000;

const runStatus = (page: Page, runId: string) => page.locator(`[data-run-id="${runId}"] [data-status]`).getAttribute('data-status');

async function waitForStatus(page: Page, runId: string, status: string): Promise<void> {
  await page.locator(`[data-run-id="${runId}"] [data-status="${status}"]`).waitFor({ timeout: RUN_TIMEOUT_MS });
}

/** The run once it has finished, read from the API by the test (not by the page). */
async function finished(app: WebApp, runId: string): Promise<Run> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    const run = await app.api<Run>('GET', `/api/v1/runs/${runId}`);
    if (run.finishedAt !== null || Date.now() > deadline) return run;
    await sleep(500);
  }
}

/** Once the page follows events ("Updates live") and has made no request for a second: what it read on subscribing is in. */
async function liveAndQuiet(page: Page, requests: string[]): Promise<void> {
  await page.getByText('Updates live').waitFor();
  for (let count = -1; count !== requests.length;) {
    count = requests.length;
    await sleep(1000);
  }
}

async function statValue(page: Page, label: string): Promise<string> {
  return (await page.locator('dt', { hasText: label }).locator('xpath=following-sibling::dd[1]').innerText()).trim();
}

test('the dashboard follows a run triggered through the API, with a constant request count while its events arrive', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  if (!(await dockerOrSkip(t))) return;
  const app = await startWebApp(t);
  const pipeline = await app.api<{ id: string }>('POST', `/api/v1/tenants/${app.tenantId}/pipelines`, { name: 'live-demo', config: KDL });
  const first = await app.api<Run>('POST', `/api/v1/pipelines/${pipeline.id}/runs`, {});

  assert.equal((await finished(app, first.id)).status, 'succeeded', app.output.slice(-30).join('\n'));

  const { page, requests } = await signedInPage(t, browser, app);
  await waitForStatus(page, first.id, 'succeeded');
  await liveAndQuiet(page, requests);
  assert.equal(await statValue(page, 'Runs today'), '1');

  const before = requests.length;
  const second = await app.api<Run>('POST', `/api/v1/pipelines/${pipeline.id}/runs`, {});
  await page.locator(`[data-run-id="${second.id}"]`).waitFor({ timeout: RUN_TIMEOUT_MS });
  await sleep(500);
  const appeared = requests.slice(before);
  t.diagnostic(`when the new run appeared: ${appeared.join(', ')}`);
  assert.equal(appeared.length, 1, 'one request for a run the page had not seen');
  assert.match(appeared[0]!, new RegExp(`^GET .*/api/v1/tenants/${app.tenantId}/runs\\?`));

  const seen = new Set<string>();
  const watch = setInterval(() => void runStatus(page, second.id).then((status) => status && seen.add(status)), 100);
  t.after(() => clearInterval(watch));
  await waitForStatus(page, second.id, 'succeeded').catch(async (error: Error) => {
    throw new Error(`${error.message}\nthe API says: ${(await app.api<Run>('GET', `/api/v1/runs/${second.id}`)).status}`);
  });
  clearInterval(watch);
  t.diagnostic(`statuses shown: ${[...seen].join(' → ')}`);
  assert.equal(await statValue(page, 'Runs today'), '2', 'today’s count moved with the events');
  assert.equal(await statValue(page, 'Success rate'), '100%');
  assert.notEqual(await statValue(page, 'Median duration'), '—');

  const stages = await app.db.prisma.stageRun.count({ where: { runId: second.id } });
  assert.equal(stages, 3, 'its three stages sent their events meanwhile');
  assert.deepEqual(requests.slice(before + 1), [], 'no request while the run’s events arrived');
});

test('the run history: filters in the URL, new runs announced, statuses live', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  if (!(await dockerOrSkip(t))) return;
  const app = await startWebApp(t);
  const pipeline = await app.api<{ id: string }>('POST', `/api/v1/tenants/${app.tenantId}/pipelines`, { name: 'history-demo', config: KDL });
  const first = await app.api<Run>('POST', `/api/v1/pipelines/${pipeline.id}/runs`, {});
  assert.equal((await finished(app, first.id)).status, 'succeeded', app.output.slice(-30).join('\n'));

  const { page, requests } = await signedInPage(t, browser, app);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs', exact: true }).click();
  await waitForStatus(page, first.id, 'succeeded');
  await page.getByLabel('Status').selectOption('failed');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/runs' && url.searchParams.get('status') === 'failed');
  await page.getByText('No run matches these filters').waitFor();
  await page.getByLabel('Status').selectOption('');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/runs' && url.search === '');
  await waitForStatus(page, first.id, 'succeeded');
  await liveAndQuiet(page, requests);

  const before = requests.length;
  const second = await app.api<Run>('POST', `/api/v1/pipelines/${pipeline.id}/runs`, {});
  await page.getByText('A new run was queued since this list was loaded.').waitFor({ timeout: RUN_TIMEOUT_MS });
  assert.deepEqual(requests.slice(before), [], 'announced from the event alone');
  await page.getByRole('button', { name: 'Show new runs' }).click();
  await page.locator(`[data-run-id="${second.id}"]`).waitFor();
  const shown = requests.length;
  await waitForStatus(page, second.id, 'succeeded');
  assert.deepEqual(requests.slice(shown), [], 'its status followed the events with no request');
});
