/**
 * The stack pages end to end (issue 15), in Chromium against a whole BuildIt (web + worker running the real
 * terraform on configurations of `terraform_data` resources only, so nothing is downloaded): a stack created
 * with the New stack form, its variables set on its page (one sensitive), its terraform binary and version
 * constraint set and cleared in its settings (an unreadable constraint refused with why), a run planned by the
 * worker and reviewed on the plan review page (first listed while its plan is stored, then resources grouped by
 * action, attribute diffs, the sensitive one masked), approved in the browser and applied, its outputs then
 * on the stack page and in the linked environment; the lock holder shown and force-unlocked; a rollback; a
 * state version's page and a rollback from it. A second person's page follows an approval and a discard made
 * in another browser without a reload. The sensitive variable and output are in no page's HTML.
 * Screenshots of each page in both themes at desktop and phone width; axe-core on each.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumOrSkip } from '../support/browser';
import { addTenantUser, artifactsDir, assertNoSeriousAxeViolations, screenshots, signedInPage, startWebApp } from '../support/web';
import { packConfiguration } from '../stacks/support';
import { slowShowTerraform, stackConfig, terraformDir, terraformOrSkip } from '../stacks/terraform';

const SECRET = `s3cret-${randomBytes(8).toString('hex')}`;
const RUN_TIMEOUT_MS = 120_000;

/** The page's HTML, checked for the secret, then its screenshots and an axe-core check. */
async function checkPage(page: Page, dir: string, name: string, what: string): Promise<void> {
  assert.ok(!(await page.content()).includes(SECRET), `${what}: the sensitive value is in the page`);
  await screenshots(page, dir, name);
  await assertNoSeriousAxeViolations(page, what);
}

/** Counts the page's own loads (a reload or a navigation of the tab), to show that it changed without one. */
function countLoads(page: Page): () => number {
  let loads = 0;
  page.on('load', () => loads++);
  return () => loads;
}

/** The run's status badge in the plan review's header, once it is `status`. */
const runStatus = (page: Page, status: string) => page.locator(`main header [data-status="${status}"]`).waitFor({ timeout: RUN_TIMEOUT_MS });

test('stacks: create, variables, plan review, approve in the browser, apply, outputs in the stack and its environment', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser || !terraformOrSkip(t)) return;
  // The review's first plan runs a terraform whose `show` is slow: the page shows the moment before the plan is stored.
  const app = await startWebApp(t, { BUILDIT_WORKER_EXECUTORS: 'docker,local', BUILDIT_TERRAFORM_BINS: `slow-show=${slowShowTerraform(8)}` });
  const dir = artifactsDir(t, 'stacks');
  const { page } = await signedInPage(t, browser, app);
  page.on('dialog', (dialog) => void dialog.accept());
  // A second person on the same pages, in another browser context: sees decisions made by the first live.
  const { page: viewer } = await signedInPage(t, browser, app, { as: await addTenantUser(app, 'viewer@example.test') });
  let stackId = '';
  let runId = '';

  await t.test('empty lists say how to start', async () => {
    await page.goto(`${app.base}/environments`);
    await page.getByText('No environments yet').waitFor();
    await checkPage(page, dir, 'environments-empty', 'empty environments');
    await page.goto(`${app.base}/stacks`);
    await page.getByText('No stacks yet').waitFor();
    await page.getByText(/buildit stacks create --name NAME/).waitFor();
    await checkPage(page, dir, 'stacks-empty', 'empty stacks list');
  });

  await t.test('New stack creates a stack and opens its page', async () => {
    const newStack = page.getByRole('button', { name: 'New stack' });
    await newStack.click();
    assert.equal(await newStack.getAttribute('aria-expanded'), 'true');
    await page.getByLabel('Name', { exact: true }).fill('Network');
    await page.getByLabel(/^Uploaded by the CLI/).check();
    await page.getByLabel('Environment (optional)').fill('staging');
    await checkPage(page, dir, 'stacks-new', 'the New stack form');
    await page.getByRole('button', { name: 'Create stack' }).click();
    await page.waitForURL((url) => /^\/stacks\/[a-z0-9]+$/.test(url.pathname));
    stackId = new URL(page.url()).pathname.split('/')[2]!;
    await page.getByRole('heading', { name: 'Network', level: 1 }).waitFor();
    await page.getByText('No runs yet').waitFor();
  });

  await t.test('variables: a plain value is shown, a sensitive one is write-only', async () => {
    const setVariable = async (name: string, value: string, sensitive: boolean) => {
      await page.getByLabel('Variable name').fill(name);
      if (sensitive) await page.getByLabel(/^Sensitive/).check();
      await page.getByLabel('Value', { exact: true }).fill(value);
      await page.getByRole('button', { name: 'Set variable' }).click();
      await page.locator(`[data-variable="${name}"]`).waitFor();
    };
    await setVariable('label', 'one', false);
    await setVariable('password', SECRET, true);
    assert.equal(await page.locator('[data-variable="label"] pre').innerText(), 'one');
    await page.locator('[data-variable="password"]').getByText('sensitive: write-only').waitFor();
  });

  await t.test('settings: the terraform binary is saved, shown after a reload, and cleared back to the default', async () => {
    const saveBinary = async (value: string) => {
      await page.getByLabel('Terraform binary').fill(value);
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      await page.reload();
      return page.getByLabel('Terraform binary').inputValue();
    };
    assert.equal(await saveBinary('tofu'), 'tofu');
    assert.equal((await app.api<{ terraformBinary: string | null }>('GET', `/api/v1/stacks/${stackId}`)).terraformBinary, 'tofu');
    // The plans below run the worker's default binary again.
    assert.equal(await saveBinary(''), '');
    assert.equal((await app.api<{ terraformBinary: string | null }>('GET', `/api/v1/stacks/${stackId}`)).terraformBinary, null);
  });

  await t.test('settings: a terraform version constraint is saved and cleared; one the API cannot read is refused, saying why', async () => {
    const version = page.getByLabel('Terraform version');
    const saveVersion = async (value: string) => {
      await version.fill(value);
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      await page.reload();
      return version.inputValue();
    };
    assert.equal(await saveVersion('~> 1.11'), '~> 1.11');
    assert.equal((await app.api<{ terraformVersion: string | null }>('GET', `/api/v1/stacks/${stackId}`)).terraformVersion, '~> 1.11');
    await version.fill('latest');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('alert').filter({ hasText: 'terraformVersion: "latest" is not a terraform version constraint: write an operator' }).waitFor();
    assert.equal(await saveVersion(''), '');
    assert.equal((await app.api<{ terraformVersion: string | null }>('GET', `/api/v1/stacks/${stackId}`)).terraformVersion, null);
  });

  await t.test('a plan is reviewed: resources grouped by action, attribute diffs, the sensitive one masked', async () => {
    await app.api('PATCH', `/api/v1/stacks/${stackId}`, { terraformBinary: 'slow-show' });
    // The CLI uploads the configuration (buildit stacks plan); the stack's page links the run.
    const configuration = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false }) }).dir);
    ({ id: runId } = await app.api<{ id: string }>('POST', `/api/v1/stacks/${stackId}/runs`, { kind: 'apply', configuration }));
    await page.reload();
    await page.getByRole('link', { name: 'Run #1 · apply' }).click();
    await page.waitForURL((url) => url.pathname === `/stacks/runs/${runId}`);
    const loads = countLoads(page);
    await runStatus(page, 'planned');
    // Planned from terraform's stream: the resources are listed while show -json's attribute changes are stored.
    const storing = page.getByRole('status').filter({ hasText: "Storing the plan's attribute changes and output changes…" });
    await storing.waitFor();
    await page.locator('[data-action="create"]').getByRole('heading', { name: 'Create (2)' }).waitFor();
    const approve = page.getByRole('button', { name: 'Approve', exact: true });
    assert.equal(await approve.count(), 0, 'no Approve before the plan can be reviewed');
    await checkPage(page, dir, 'plan-review-storing', 'the plan review while the plan is stored');
    await storing.waitFor({ state: 'detached', timeout: RUN_TIMEOUT_MS });
    await approve.waitFor();
    assert.equal(loads(), 0, 'the stored plan came in without a reload');
    await app.api('PATCH', `/api/v1/stacks/${stackId}`, { terraformBinary: null });

    const creates = page.locator('[data-action="create"]');
    await creates.getByRole('heading', { name: 'Create (2)' }).waitFor();
    const thing = creates.getByRole('button', { name: 'terraform_data.thing' });
    assert.equal(await thing.getAttribute('aria-expanded'), 'false');
    await thing.focus();
    await page.keyboard.press('Enter');
    assert.equal(await thing.getAttribute('aria-expanded'), 'true', 'the keyboard opens a resource');
    assert.match(await creates.locator('[data-resource="terraform_data.thing"] [data-attribute="input"]').innerText(), /"one"/);
    await creates.getByRole('button', { name: 'terraform_data.secret' }).click();
    const secretInput = creates.locator('[data-resource="terraform_data.secret"] [data-attribute="input"]');
    assert.deepEqual(await secretInput.locator('td').allInnerTexts(), ['(sensitive)', '(sensitive)']);
    await page.locator('[data-output="password"]').getByText('(sensitive)').first().waitFor();
    await page
      .getByRole('region', { name: 'Log' })
      .getByText(/Plan: 2 to add/)
      .waitFor();
    await checkPage(page, dir, 'plan-review', 'the plan review');
  });

  await t.test('Approve in the browser: the apply is followed to applied, outputs on the run and the stack, live on a viewer page', async () => {
    await viewer.goto(`${app.base}/stacks/runs/${runId}`);
    await runStatus(viewer, 'planned');
    await viewer.getByText('This plan waits for a tenant admin to approve or discard it.').waitFor();
    const viewerLoads = countLoads(viewer);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await runStatus(page, 'applied');
    await runStatus(viewer, 'applied');
    assert.match(await viewer.locator('main dl').innerText(), /Approved by\s+owner@example\.test/);
    assert.equal(viewerLoads(), 0, 'the viewer page changed without a reload');
    assert.match(await page.locator('main dl').innerText(), /Approved by\s+owner@example\.test/);
    await page
      .getByRole('region', { name: 'Log' })
      .getByText(/Apply complete!/)
      .waitFor();
    await checkPage(page, dir, 'plan-review-applied', 'the applied run');

    await page.getByRole('link', { name: 'Stack', exact: true }).click();
    await page.getByRole('heading', { name: 'Network', level: 1 }).waitFor();
    // The binary was set back through the API while this page had the stack cached: its settings show what is stored.
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('form[aria-label="Stack settings"] input[name="terraformBinary"]')?.value === '');
    const outputs = page.getByRole('table', { name: 'Outputs of Network' });
    assert.equal(await outputs.locator('[data-output="label"] td').innerText(), 'one');
    assert.equal(await outputs.locator('[data-output="password"] td').innerText(), 'sensitive: hidden');
    await page.getByRole('list', { name: 'State versions' }).getByText('Version 1').waitFor();
    await checkPage(page, dir, 'stack', 'the stack page');
  });

  await t.test('the linked environment shows the outputs, the sensitive one hidden', async () => {
    await page.getByRole('link', { name: 'staging' }).click();
    await page.waitForURL((url) => url.pathname === '/environments');
    const staging = page.locator('[data-environment="staging"]');
    await staging.getByRole('link', { name: 'Network' }).waitFor();
    assert.equal(await staging.locator('[data-output="label"] td').innerText(), 'one');
    assert.equal(await staging.locator('[data-output="password"] td').innerText(), 'sensitive: hidden');
    await checkPage(page, dir, 'environments', 'the environments');
  });

  await t.test('the list shows the last run; a held lock is shown with its holder and force-unlocked', async () => {
    const lock = await fetch(`${app.base}/api/v1/stacks/${stackId}/state/lock`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`laptop:${app.token}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ID: 'c0ffee00-0000-4000-8000-000000000001',
        Operation: 'OperationTypeApply',
        Who: 'ana@laptop',
        Created: new Date().toISOString(),
      }),
    });
    assert.equal(lock.status, 200, await lock.text());

    await page.goto(`${app.base}/stacks`);
    const row = page.locator('[data-stack="network"]');
    await row.getByRole('link', { name: /^Last run\s*applied\s*#1 apply/ }).waitFor();
    await row.getByText(/Locked by owner@example\.test \(ana@laptop\)/).waitFor();
    await checkPage(page, dir, 'stacks', 'the stacks list');

    await row.getByRole('link', { name: 'Network' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'The state is locked by' });
    await notice.getByText('owner@example.test (ana@laptop)').waitFor();
    await checkPage(page, dir, 'stack-locked', 'the locked stack');
    await notice.getByRole('button', { name: 'Force unlock' }).click();
    await notice.waitFor({ state: 'detached' });
    const stack = await app.api<{ lock: unknown }>('GET', `/api/v1/stacks/${stackId}`);
    assert.equal(stack.lock, null, 'the lock is gone');
  });

  await t.test('a rollback from the stack page restores the earlier outputs', async () => {
    await app.api('PUT', `/api/v1/stacks/${stackId}/variables/label`, { value: 'two' });
    const { id } = await app.api<{ id: string }>('POST', `/api/v1/stacks/${stackId}/runs`, { kind: 'apply' });
    await page.goto(`${app.base}/stacks/runs/${id}`);
    await runStatus(page, 'planned');
    await page.locator('[data-action="update"]').getByRole('heading', { name: 'Update in place (1)' }).waitFor();
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await runStatus(page, 'applied');

    await page.goto(`${app.base}/stacks/${stackId}`);
    const label = page.getByRole('table', { name: 'Outputs of Network' }).locator('[data-output="label"] td');
    assert.equal(await label.innerText(), 'two');
    await page.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page.getByRole('list', { name: 'State versions' }).getByText('rollback to version 1 by owner@example.test').waitFor();
    await label.getByText('one', { exact: true }).waitFor();
  });
  await t.test('a state version has its page: serial, lineage, writer, resources, outputs without the sensitive value; Roll back', async () => {
    await page.getByRole('list', { name: 'State versions' }).getByRole('link', { name: 'Version 2' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/stacks/state/'));
    await page.getByRole('heading', { name: 'State version 2', level: 1 }).waitFor();
    await page.getByText('the current state is version 3').waitFor();
    const facts = await page.locator('main dl').innerText();
    assert.match(facts, /Serial\s+\d+/);
    assert.match(facts, /Lineage\s+[0-9a-f-]{36}/);
    assert.match(facts, /written by a run/);
    await page.getByRole('list', { name: 'Resources of version 2' }).locator('[data-resource="terraform_data.thing"]').waitFor();
    const outputs = page.getByRole('table', { name: 'Outputs of version 2' });
    assert.equal(await outputs.locator('[data-output="label"] td').innerText(), 'two');
    assert.equal(await outputs.locator('[data-output="password"] td').innerText(), 'sensitive: hidden');
    await checkPage(page, dir, 'state-version', 'the state version page');

    // A viewer sees the version, not the rollback.
    await viewer.goto(page.url());
    await viewer.getByRole('heading', { name: 'State version 2', level: 1 }).waitFor();
    assert.equal(await viewer.getByRole('button', { name: 'Roll back to this version' }).count(), 0);
    assert.ok(!(await viewer.content()).includes(SECRET), 'the viewer page holds no sensitive value');

    await page.getByRole('button', { name: 'Roll back to this version' }).click();
    await page.getByRole('heading', { name: 'State version 4', level: 1 }).waitFor();
    await page.getByText('rollback to version 2 by owner@example.test').waitFor();
    await page.getByText(': the current state.').waitFor();
    const stack = await app.api<{ outputs: Record<string, { value?: unknown }> }>('GET', `/api/v1/stacks/${stackId}`);
    assert.equal(stack.outputs.label?.value, 'two');
  });

  await t.test("a discard shows at once on another viewer's page, without a reload", async () => {
    await app.api('PUT', `/api/v1/stacks/${stackId}/variables/label`, { value: 'three' });
    const { id } = await app.api<{ id: string }>('POST', `/api/v1/stacks/${stackId}/runs`, { kind: 'apply' });
    await page.goto(`${app.base}/stacks/runs/${id}`);
    await viewer.goto(`${app.base}/stacks/runs/${id}`);
    await runStatus(page, 'planned');
    await runStatus(viewer, 'planned');
    const viewerLoads = countLoads(viewer);
    // Only the API moves a run to discarded (no worker announces it): the viewer learns it from the API's event.
    await page.getByRole('button', { name: 'Discard', exact: true }).click();
    await runStatus(page, 'discarded');
    await runStatus(viewer, 'discarded');
    assert.equal(viewerLoads(), 0, 'the viewer page changed without a reload');
  });
});
