/**
 * The pipeline pages end to end (issue 14), in Chromium against a whole BuildIt (web + worker on the Docker
 * engine): the empty list, the 7-step wizard (its draft survives a reload and Back; what is created is the
 * KDL reviewed at step 6, edited there), a run of it reaching the run page, the list with its last run and
 * search, the pipeline page with its runs and filters, an invalid config edit (diagnostics at line:column,
 * saving refused) and "Run pipeline". Screenshots of each page in light and dark; axe-core on each.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Pipeline } from '../../lib/api/schemas/pipelines';
import type { Run } from '../../lib/api/schemas/runs';
import { sleep } from '../../lib/async';
import { loadPipeline } from '../../lib/pipeline';
import { chromiumOrSkip } from '../support/browser';
import { dockerOrSkip, TEST_IMAGE as IMAGE } from '../support/engines';
import { artifactsDir, assertNoSeriousAxeViolations as assertAccessible, screenshots, signedInPage, startWebApp, type WebApp } from '../support/web';

const NAME = 'Hello web';
const REVIEW_COMMENT = '// reviewed in the browser';

const stageGroup = (page: Page, position: number) => page.getByRole('group', { name: new RegExp(`^Stage ${position}\\b`) });

async function next(page: Page, heading: string): Promise<void> {
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('heading', { name: new RegExp(`: ${heading}$`) }).waitFor();
}

/** Replaces the editor's whole text as one input (no auto-closed brackets or indentation on the way). */
async function replaceEditorText(page: Page, label: string, text: string): Promise<void> {
  await page.getByRole('textbox', { name: label }).click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(text);
}

/** Polls the API (the test, not the page) until the run satisfies `done`. */
async function waitForRun(app: WebApp, runId: string, done: (run: Run) => boolean): Promise<Run> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const run = await app.api<Run>('GET', `/api/v1/runs/${runId}`);
    if (done(run)) return run;
    assert.ok(Date.now() < deadline, `run ${runId} did not get there in time: ${JSON.stringify(run)}`);
    await sleep(250);
  }
}

async function pipelinesOf(app: WebApp): Promise<Pipeline[]> {
  const page = await app.api<{ items: Array<{ id: string }> }>('GET', `/api/v1/tenants/${app.tenantId}/pipelines`);
  return Promise.all(page.items.map((item) => app.api<Pipeline>('GET', `/api/v1/pipelines/${item.id}`)));
}

test('pipelines: wizard to a run, list, pipeline page, config diagnostics, Run pipeline', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser || !(await dockerOrSkip(t))) return;
  const app = await startWebApp(t);
  const dir = artifactsDir(t, 'pipelines');
  const { page, requests } = await signedInPage(t, browser, app);

  await t.test('an empty list says how to create the first pipeline', async () => {
    await page.goto(`${app.base}/pipelines`);
    await page.getByText('No pipelines yet', { exact: true }).waitFor();
    await screenshots(page, dir, 'pipelines-empty');
    await assertAccessible(page, 'empty pipelines list');
    await page.getByRole('button', { name: 'New pipeline' }).click();
    await page.waitForURL((url) => url.pathname === '/pipelines/new');
  });

  await t.test('the wizard: steps, a draft that survives Back and a reload, the review, creation and a run', async () => {
    await page.getByRole('heading', { name: /: Name$/ }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    await next(page, 'Repository');
    assert.equal(await page.getByLabel('Branch', { exact: true }).inputValue(), 'main');
    assert.equal(await page.getByLabel('Repository', { exact: true }).inputValue(), '');
    await next(page, 'Triggers');
    await next(page, 'Stages');

    const first = stageGroup(page, 1);
    await first.getByLabel('Stage name', { exact: true }).fill('build');
    await first.getByLabel('Image', { exact: true }).fill(IMAGE);
    await first.getByLabel('Commands', { exact: true }).fill('echo "hello from the wizard"\necho second line');
    await page.getByRole('button', { name: 'Add stage' }).click();
    const second = stageGroup(page, 2);
    await second.getByLabel('Stage name', { exact: true }).fill('check');
    await second.getByLabel('Image', { exact: true }).fill(IMAGE);
    await second.getByLabel('Commands', { exact: true }).fill('test -n "$BUILDIT_RUN_ID"');
    await second.getByLabel('build', { exact: true }).check();
    await screenshots(page, dir, 'wizard-stages');
    await assertAccessible(page, 'wizard, stages step');

    await page.reload();
    await page.getByRole('heading', { name: /: Stages$/ }).waitFor();
    assert.equal(await stageGroup(page, 2).getByLabel('Stage name', { exact: true }).inputValue(), 'check', 'a reload keeps the draft');
    assert.equal(await stageGroup(page, 1).getByLabel('Commands', { exact: true }).inputValue(), 'echo "hello from the wizard"\necho second line');
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByRole('heading', { name: /: Triggers$/ }).waitFor();
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), NAME, 'Back keeps what was typed');
    await next(page, 'Repository');
    await next(page, 'Triggers');
    await next(page, 'Stages');
    assert.equal(await stageGroup(page, 1).getByLabel('Image', { exact: true }).inputValue(), IMAGE);
    await next(page, 'Variables and secrets');
    await next(page, 'Review');

    const editor = page.getByRole('textbox', { name: 'Pipeline KDL' });
    await editor.waitFor();
    await page.getByText('No problems found.').waitFor();
    assert.match(await editor.innerText(), /stage "check" \{\s+needs "build"/);
    await page.locator('.react-flow [data-stage="check"]').waitFor();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText(`${REVIEW_COMMENT}\n`);
    await page.getByText('You edited the KDL').waitFor();
    await screenshots(page, dir, 'wizard-review');
    await assertAccessible(page, 'wizard, review step');

    await next(page, 'Create');
    assert.equal(await page.getByLabel(/^Run it now/).isChecked(), true);
    await page.getByRole('button', { name: 'Create pipeline', exact: true }).click();
    await page.waitForURL((url) => /^\/runs\/[a-z0-9]+$/.test(url.pathname));
    const runId = new URL(page.url()).pathname.split('/')[2]!;

    const [pipeline] = await pipelinesOf(app);
    assert.ok(pipeline, 'the pipeline was created');
    assert.equal(pipeline.name, NAME);
    assert.ok(pipeline.config?.endsWith(`\n${REVIEW_COMMENT}\n`), `the config is the reviewed text, edit included:\n${pipeline.config}`);
    const { spec } = loadPipeline(pipeline.config!, 'buildit.kdl');
    assert.deepEqual(
      spec?.stages.map((stage) => [stage.name, stage.needs.map((need) => need.name), stage.commands.map((command) => command.value)]),
      [
        ['build', [], ['echo "hello from the wizard"', 'echo second line']],
        ['check', ['build'], ['test -n "$BUILDIT_RUN_ID"']],
      ],
    );
    const run = await waitForRun(app, runId, (current) => ['succeeded', 'failed', 'cancelled'].includes(current.status));
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    await page.reload();
    const drafts = await page.evaluate(() => Object.keys(sessionStorage).filter((key) => key.startsWith('buildit-pipeline-draft')));
    assert.deepEqual(drafts, [], 'the draft is gone once the pipeline exists');
  });

  await t.test('the list shows the last run and branch, and searches', async () => {
    await page.goto(`${app.base}/pipelines`);
    const row = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: NAME }) });
    await row.locator('[data-status="succeeded"]').waitFor();
    assert.match(await row.innerText(), /#1 on main/);

    // A run started elsewhere reaches the open list by the tenant's events: no reload, no polling.
    const listReads = () => requests.filter((request) => /^GET .*\/api\/v1\/tenants\/[a-z0-9]+\/pipelines/.test(request)).length;
    const readsBefore = listReads();
    const [pipeline] = await pipelinesOf(app);
    await app.api('POST', `/api/v1/pipelines/${pipeline!.id}/runs`, {});
    await row.getByText(/#2 on main/).waitFor({ timeout: 60_000 });
    await row.locator('[data-status="succeeded"]').waitFor({ timeout: 90_000 });
    assert.ok(listReads() - readsBefore <= 2, `the list read again once for the new run, not in a loop: ${listReads() - readsBefore} reads`);
    await screenshots(page, dir, 'pipelines-list');
    await assertAccessible(page, 'pipelines list');
    await page.getByLabel('Search pipelines').fill('no such pipeline');
    await page.getByText('No pipeline matches your search.').waitFor();
    await page.getByLabel('Search pipelines').fill('HELLO');
    await page.getByRole('link', { name: NAME }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/pipelines/') && url.pathname !== '/pipelines/new');
  });

  await t.test('the pipeline page: runs with filters, an invalid config edit refused with line:column diagnostics', async () => {
    await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    const runs = page.getByRole('table');
    await runs.locator('[data-status="succeeded"]').first().waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await page.getByText('No run matches these filters.').waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.getByLabel('Branch filter').fill('main');
    await runs.getByRole('link', { name: '#1' }).waitFor();
    await page.locator('.react-flow [data-stage="build"]').waitFor();
    await screenshots(page, dir, 'pipeline');
    await assertAccessible(page, 'pipeline page');

    const [before] = await pipelinesOf(app);
    await replaceEditorText(page, 'Pipeline config (KDL)', 'pipeline "hello"\nstage "build" {\n    imag "busybox"\n    run "true"\n}\n');
    const problems = page.getByRole('list', { name: 'Problems' });
    await problems.getByText(/^3:5 error: unknown node `imag`/).waitFor();
    assert.ok(await page.locator('.cm-lintRange-error').count(), 'the editor underlines the error');
    await page.getByRole('button', { name: 'Save config' }).click();
    await page.getByText(/^Not saved: the config has \d+ errors?/).waitFor();
    await screenshots(page, dir, 'pipeline-invalid-config');
    const [after] = await pipelinesOf(app);
    assert.equal(after!.config, before!.config, 'nothing was saved');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await page.getByText('No problems found.').waitFor();
  });

  await t.test('Run pipeline: the dialog starts a run and goes to its page', async () => {
    await page.getByRole('button', { name: 'Run pipeline', exact: true }).click();
    const dialog = page.getByRole('dialog');
    assert.equal(await dialog.getByLabel('Branch', { exact: true }).inputValue(), 'main');
    await screenshots(page, dir, 'run-dialog');
    await assertAccessible(page, 'Run pipeline dialog');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL((url) => /^\/runs\/[a-z0-9]+$/.test(url.pathname));
    const run = await waitForRun(app, new URL(page.url()).pathname.split('/')[2]!, (current) => current.number === 3);
    assert.equal(run.branch, 'main');
  });
});
