/**
 * Settings in a real Chromium against a whole BuildIt: a token created on the Tokens page is shown once, works
 * against the API, and stops working once revoked there; a secret set on the Secrets page never comes back, in
 * no page, no HTTP answer the browser got, no API answer and no line BuildIt logged. The API's refusals show in
 * an alert, and a tenant viewer is offered no control the API would refuse.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumOrSkip } from '../support/browser';
import { addTenantUser, signedInPage, startWebApp, type WebApp } from '../support/web';

const PAGES = [
  '/',
  '/runs',
  '/pipelines',
  '/stacks',
  '/environments',
  '/settings',
  '/settings/members',
  '/settings/secrets',
  '/settings/tokens',
  '/settings/audit-log',
];

async function bearer(app: WebApp, token: string, apiPath: string): Promise<number> {
  const response = await fetch(`${app.base}${apiPath}`, { headers: { authorization: `Bearer ${token}` } });
  await response.body?.cancel();
  return response.status;
}

/** Every HTTP answer the page gets from now on, as text (bodies the browser could read). */
function recordAnswers(page: Page): string[] {
  const answers: string[] = [];
  page.on('response', (response) => {
    void response
      .text()
      .then((text) => answers.push(`${response.url()}\n${text}`))
      .catch(() => undefined);
  });
  return answers;
}

test('Settings: tokens shown once and revocable; secrets write-only', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const app = await startWebApp(t);

  await t.test('a token created on the Tokens page is shown once, works against the API, and is revoked there', async (t) => {
    const { page } = await signedInPage(t, browser, app);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${app.base}/settings/tokens`);
    await page
      .getByText('No tokens yet')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    await page.getByLabel('Token name').fill('from the browser');
    await page.getByLabel('runs:trigger').check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByLabel('New token');
    await shown.waitFor();
    const token = await shown.inputValue();
    assert.match(token, /^bk_/, 'the token itself');
    assert.ok(await page.getByRole('button', { name: 'Copy token' }).isVisible(), 'a copy button');

    assert.equal(await bearer(app, token, `/api/v1/tenants/${app.tenantId}`), 200, 'the new token works');
    const listed = await (await fetch(`${app.base}/api/v1/tokens`, { headers: { authorization: `Bearer ${app.token}` } })).text();
    assert.ok(listed.includes('from the browser') && !listed.includes(token), 'listed, without its value');

    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Revoke token from the browser' }).waitFor();
    assert.ok(!(await page.content()).includes(token), 'not shown again once dismissed');
    await page.reload();
    await page.getByRole('button', { name: 'Revoke token from the browser' }).click();
    await page.getByRole('button', { name: 'Revoke token from the browser' }).waitFor({ state: 'detached' });
    await page
      .getByText(/revoked/)
      .first()
      .waitFor();
    assert.ok(!(await page.content()).includes(token));
    assert.equal(await bearer(app, token, `/api/v1/tenants/${app.tenantId}`), 401, 'revoked: refused');
  });

  await t.test("the API's refusal of a token shows in an alert", async (t) => {
    const { page } = await signedInPage(t, browser, app);
    await page.goto(`${app.base}/settings/tokens`);
    await page.getByLabel('Token name').fill('without scopes');
    await page.getByLabel('read', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Create token' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /\S/ });
    await alert.first().waitFor();
    assert.match(await alert.first().innerText(), /^scopes: choose at least one scope$/, 'the API says why, field by field');
    assert.equal(await page.getByLabel('New token').count(), 0, 'no token was shown');
  });

  await t.test('a tenant viewer sees names and lists, and no control the API would refuse', async (t) => {
    const viewer = await addTenantUser(app, 'viewer@example.test');
    const { page } = await signedInPage(t, browser, app, { as: viewer });
    await page.goto(`${app.base}/settings`);
    await page.getByText('Owners of the organization rename it.').waitFor();
    assert.equal(await page.getByRole('button', { name: /^(Rename|Create) / }).count(), 0, 'no rename or create buttons');
    await page.goto(`${app.base}/settings/secrets`);
    await page.getByRole('heading', { name: /^Secrets of / }).waitFor();
    assert.equal(await page.getByLabel('Secret value').count(), 0, 'no form to set a secret');
    await page.goto(`${app.base}/settings/members`);
    await page.getByRole('list', { name: 'Organization members' }).waitFor();
    assert.equal(await page.getByRole('main').getByRole('combobox').count(), 0, 'no role to change (the sidebar has the tenant menu)');
    assert.equal(await page.getByRole('button', { name: /^(Remove|Invite|Give role)/ }).count(), 0);
    await page.goto(`${app.base}/settings/audit-log`);
    await page.getByRole('alert').filter({ hasText: 'Only owners and admins' }).waitFor();
  });

  await t.test('a secret set on the Secrets page never comes back, in any page or answer', async (t) => {
    const { page } = await signedInPage(t, browser, app);
    const answers = recordAnswers(page);
    const value = `s3cret-${randomBytes(12).toString('hex')}`;
    await page.goto(`${app.base}/settings/secrets`);
    await page.getByText('No secrets yet').waitFor();
    await page.getByLabel('Secret name').fill('DEPLOY_PASSWORD');
    await page.getByLabel('Secret value').fill(value);
    await page.getByRole('button', { name: 'Set secret' }).click();
    await page.getByRole('list', { name: 'Secrets' }).getByText('DEPLOY_PASSWORD').waitFor();
    assert.equal(await page.getByLabel('Secret value').inputValue(), '', 'the field is emptied once saved');

    // Replacing it works the same way, and is as silent.
    await page.getByLabel('Secret name').fill('DEPLOY_PASSWORD');
    await page.getByLabel('Secret value').fill(`${value}-2`);
    await page.getByRole('button', { name: 'Set secret' }).click();
    await page.getByText('Secret DEPLOY_PASSWORD saved.').waitFor();

    for (const path of PAGES) {
      await page.goto(`${app.base}${path}`);
      await page.waitForLoadState('networkidle');
      assert.ok(!(await page.content()).includes(value), `${path} does not show the value`);
    }
    for (const apiPath of [`/api/v1/tenants/${app.tenantId}/secrets`, `/api/v1/organizations/${app.organizationId}/audit-log?limit=100`]) {
      const text = await (await fetch(`${app.base}${apiPath}`, { headers: { authorization: `Bearer ${app.token}` } })).text();
      assert.ok(text.includes('DEPLOY_PASSWORD'), `${apiPath} names the secret`);
      assert.ok(!text.includes(value), `${apiPath} does not carry the value`);
    }
    assert.ok(answers.length > PAGES.length, `the browser got ${answers.length} answers`);
    assert.deepEqual(
      answers.filter((answer) => answer.includes(value)).map((answer) => answer.split('\n')[0]),
      [],
      'no HTTP answer to the browser carries the value',
    );
    assert.deepEqual(
      app.output.filter((line) => line.includes(value)),
      [],
      'BuildIt never logged it',
    );
  });
});
