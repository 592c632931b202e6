/**
 * The run page (issue 14) in a real Chromium against the whole BuildIt (web + worker) running stages on the
 * Docker engine: DAG nodes change status live, a stage's log shows lines as they are printed, the page makes
 * no HTTP request while events arrive, a stage waiting for approval is approved, a running run is cancelled,
 * a failed run is re-run failed-only; screenshots light and dark, and axe-core finds nothing serious.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumOrSkip } from '../support/browser';
import { dockerOrSkip } from '../support/engines';
import { artifactsDir, assertNoSeriousAxeViolations, screenshots, signedInPage, startWebApp } from '../support/web';
import type { Run } from '../../lib/api/schemas/runs';
import { IMAGE, stageNode, startRun, waitForNodeStatus, waitForRun } from './run-page-support';

const LIVE_KDL = `pipeline "live" { on "manual"; }
stage "build" {
    image "${IMAGE}"
    run "for i in $(seq 1 12); do echo \\"building step $i\\"; sleep 0.5; done"
}
stage "test" needs="build" {
    image "${IMAGE}"
    matrix { shard "1" "2"; }
    run "echo testing shard \${matrix.shard}"
}
stage "deploy" needs="test" {
    image "${IMAGE}"
    approval
    run "echo deployed"
}
`;

const SLOW_KDL = `pipeline "slow" { on "manual"; }
stage "wait" {
    image "${IMAGE}"
    run "echo waiting; sleep 300"
}
`;

const FLAKY_KDL = `pipeline "flaky" { on "manual"; }
stage "ok" {
    image "${IMAGE}"
    run "echo fine"
}
stage "flaky" needs="ok" {
    image "${IMAGE}"
    run "echo broken; exit 3"
}
`;

const HOLDER_KDL = `pipeline "holder" { on "manual"; group "release"; }
stage "deploy" {
    image "${IMAGE}"
    lock "production"
    run "echo holding; sleep 300"
}
`;

const WAITER_KDL = `pipeline "waiter" { on "manual"; }
stage "deploy" {
    image "${IMAGE}"
    lock "production"
    run "echo deployed"
}
`;

test('the run page follows a run live, approves, cancels and re-runs failed stages', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const app = await startWebApp(t, { BUILDIT_WORKER_GRACE_MS: '2000' });
  const artifacts = artifactsDir(t, 'run-page');
  const newPage = (t: TestContext) => signedInPage(t, browser, app, { report: (message) => t.diagnostic(message) });

  await t.test('live: statuses and log lines as they happen, no request while events arrive, then approve', async (t) => {
    const { page, requests } = await newPage(t);
    const run = await startRun(app, 'live', LIVE_KDL);
    await page.goto(`${app.base}/runs/${run.id}?stage=build`);
    await page.getByRole('heading', { name: `Run #${run.number}` }).waitFor();
    const log = page.getByRole('region', { name: 'Log' });

    // Lines appear while the stage still runs.
    await log.getByText('building step 2', { exact: true }).waitFor({ timeout: 90_000 });
    assert.equal(await stageNode(page, 'build').getAttribute('data-status'), 'running');
    // The page is loaded (run, log, scripts): from here on only Socket.IO events arrive.
    await page.waitForTimeout(500);
    const before = requests.length;
    await log.getByText('building step 9', { exact: true }).waitFor();
    await waitForNodeStatus(page, 'build', 'succeeded');
    await waitForNodeStatus(page, 'test[shard=1]', 'succeeded');
    await waitForNodeStatus(page, 'deploy', 'waiting_approval');
    assert.deepEqual(requests.slice(before), [], 'no HTTP request while the run went on');

    // Matrix stages are grouped under their stage's name; a node's status is also in words.
    const graph = page.getByRole('figure', { name: `Stages of run #${run.number}` });
    assert.equal(await graph.getByRole('group', { name: 'test: matrix of 2' }).count(), 1, await graph.ariaSnapshot());
    const description = await stageNode(page, 'deploy').evaluate((node) => document.getElementById(node.getAttribute('aria-describedby') ?? '')?.textContent);
    assert.match(description ?? '', /waiting for approval/);

    await screenshots(page, artifacts, 'run-waiting-approval');
    await assertNoSeriousAxeViolations(page, 'the run page with a stage waiting for approval');
    await page.evaluate(() => document.documentElement.classList.add('dark'));
    await assertNoSeriousAxeViolations(page, 'the run page in the dark theme');
    await page.evaluate(() => document.documentElement.classList.remove('dark'));

    // Clicking a node opens its log.
    await stageNode(page, 'test[shard=2]').click();
    await log.getByText('testing shard 2', { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await waitForNodeStatus(page, 'deploy', 'succeeded');
    await page.locator('section[aria-label="Summary"] [data-status="succeeded"]').waitFor();
    await stageNode(page, 'deploy').click();
    await log.getByText('deployed', { exact: true }).waitFor();
    await screenshots(page, artifacts, 'run-succeeded');
  });

  await t.test('cancel a running run', async (t) => {
    const { page } = await newPage(t);
    const run = await startRun(app, 'slow', SLOW_KDL);
    await page.goto(`${app.base}/runs/${run.id}`);
    await waitForNodeStatus(page, 'wait', 'running');
    await page.getByRole('region', { name: 'Log' }).getByText('waiting', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Cancel run', exact: true }).click();
    await waitForNodeStatus(page, 'wait', 'cancelled');
    await page.locator('section[aria-label="Summary"] [data-status="cancelled"]').waitFor();
    assert.equal((await waitForRun(app, run.id, (r) => r.status !== 'running')).status, 'cancelled');
    assert.equal(await page.getByRole('button', { name: 'Cancel run' }).count(), 0, 'a finished run offers no cancel');
  });

  await t.test('a stage waiting for its lock and a run waiting for its group say for what', async (t) => {
    const { page } = await newPage(t);
    const holder = await startRun(app, 'holder', HOLDER_KDL);
    await waitForRun(app, holder.id, (run) => run.stages[0]!.status === 'running');
    const waiter = await startRun(app, 'waiter', WAITER_KDL);
    await page.goto(`${app.base}/runs/${waiter.id}`);
    const stages = page.getByRole('region', { name: 'Stages' });
    await stages.getByText(`Waiting for lock production, held by run #${holder.number} (deploy)`).waitFor({ timeout: 60_000 });

    const second = await app.api<Run>('POST', `/api/v1/pipelines/${holder.pipelineId}/runs`, {});
    await page.goto(`${app.base}/runs/${second.id}`);
    const summary = page.getByRole('region', { name: 'Summary' });
    await summary.getByText(`for run #${holder.number} of group release`).waitFor({ timeout: 60_000 });

    // The holder cancelled: the waiting stage takes the lock and runs, its page following live.
    await app.api('POST', `/api/v1/runs/${holder.id}/cancel`, {});
    await page.goto(`${app.base}/runs/${waiter.id}`);
    await waitForNodeStatus(page, 'deploy', 'succeeded');
    await app.api('POST', `/api/v1/runs/${second.id}/cancel`, {});
  });

  await t.test('re-run failed: a new run reuses what succeeded and runs the failed stage again', async (t) => {
    const { page } = await newPage(t);
    const run = await startRun(app, 'flaky', FLAKY_KDL);
    await page.goto(`${app.base}/runs/${run.id}`);
    await waitForNodeStatus(page, 'flaky', 'failed');
    await page.locator('section[aria-label="Summary"] [data-status="failed"]').waitFor();
    await page.getByRole('button', { name: 'Re-run failed', exact: true }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(run.id));
    const rerunId = new URL(page.url()).pathname.split('/').at(-1)!;
    await page.getByRole('heading', { name: `Run #${run.number + 1}` }).waitFor();
    await waitForNodeStatus(page, 'flaky', 'failed');
    await waitForNodeStatus(page, 'ok', 'succeeded');
    const rerun = await waitForRun(app, rerunId, (r) => r.status === 'failed');
    assert.equal(rerun.rerunOfId, run.id);
    assert.match(rerun.stages.find((stage) => stage.stageId === 'ok')!.reason ?? '', /reused from run #/);
    await page.getByRole('button', { name: 'Re-run', exact: true }).waitFor();
  });
});
