/**
 * The app shell and engineer A's pages in a real Chromium against a whole BuildIt: the sidebar reaches every
 * section (desktop and phone), the theme toggle persists across a reload with the `dark` class set before
 * React hydrates, and every page of the app, empty and with data, is screenshotted in light and dark at desktop
 * and phone width (tmp/test-artifacts/shell/) and checked with axe-core (no serious or critical violation).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import type { Run } from '../../lib/api/schemas/runs';
import { chromiumOrSkip } from '../support/browser';
import { TEST_IMAGE } from '../support/engines';
import { PHONE, artifactsDir, assertNoSeriousAxeViolations, screenshots, signedInPage, startWebApp, type WebApp } from '../support/web';

const SECTIONS = [
  { label: 'Dashboard', path: '/' },
  { label: 'Pipelines', path: '/pipelines' },
  { label: 'Runs', path: '/runs' },
  { label: 'Stacks', path: '/stacks' },
  { label: 'Environments', path: '/environments' },
  { label: 'Settings', path: '/settings' },
] as const;

/** engineer A's pages, checked with axe-core; the others' are screenshotted only. */
const OWN_PAGES = [
  { name: 'dashboard', path: '/', heading: 'Dashboard' },
  { name: 'runs', path: '/runs', heading: 'Runs' },
  { name: 'stacks', path: '/stacks', heading: 'Stacks' },
  { name: 'environments', path: '/environments', heading: 'Environments' },
  { name: 'settings-general', path: '/settings', heading: 'Settings' },
  { name: 'settings-members', path: '/settings/members', heading: 'Settings' },
  { name: 'settings-secrets', path: '/settings/secrets', heading: 'Settings' },
  { name: 'settings-tokens', path: '/settings/tokens', heading: 'Settings' },
  { name: 'settings-audit-log', path: '/settings/audit-log', heading: 'Settings' },
] as const;

const KDL = `pipeline "shell-demo" {
    on "manual"
}

stage "build" {
    image "${TEST_IMAGE}"
    run "echo building"
}

stage "test" needs="build" {
    image "${TEST_IMAGE}"
    run "echo testing"
}
`;

/** The page has its data: no "Loading …" status left, and the network quiet. */
async function settled(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page
    .getByRole('status')
    .filter({ hasText: /^Loading/ })
    .first()
    .waitFor({ state: 'detached' })
    .catch(() => undefined);
  assert.equal(
    await page
      .getByRole('status')
      .filter({ hasText: /^Loading/ })
      .count(),
    0,
    `${page.url()} is still loading`,
  );
}

async function visit(page: Page, app: WebApp, path: string, heading: string): Promise<void> {
  const response = await page.goto(`${app.base}${path}`);
  assert.equal(response?.status(), 200, `${path} answers 200`);
  await page.getByRole('heading', { level: 1, name: heading }).first().waitFor();
  await settled(page);
}

async function shootAndCheck(t: TestContext, page: Page, app: WebApp, dir: string, suffix: string): Promise<void> {
  for (const own of OWN_PAGES) {
    await visit(page, app, own.path, own.heading);
    await screenshots(page, dir, `${own.name}${suffix}`);
    await assertNoSeriousAxeViolations(page, `${own.path}${suffix}`);
  }
  t.diagnostic(`${OWN_PAGES.length} pages${suffix} screenshotted and checked with axe-core`);
}

test('the shell and its pages: navigation, theme, screenshots and axe-core', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const app = await startWebApp(t);
  const dir = artifactsDir(t, 'shell');

  await t.test('the sidebar links reach their pages, at desktop width and from the phone menu', async (t) => {
    const { page } = await signedInPage(t, browser, app);
    const main = page.getByRole('navigation', { name: 'Main' });
    for (const { label, path } of SECTIONS) {
      await main.getByRole('link', { name: label, exact: true }).click();
      await page.waitForURL((url) => url.pathname === path);
      await page.getByRole('heading', { level: 1, name: label }).waitFor();
      assert.equal(await main.getByRole('link', { name: label, exact: true }).getAttribute('aria-current'), 'page', `${label} is marked current`);
    }

    await page.setViewportSize(PHONE);
    for (const { label, path } of SECTIONS.toReversed()) {
      assert.equal(await main.isVisible(), false, 'the menu is closed at phone width');
      await page.getByRole('button', { name: 'Menu' }).click();
      await main.getByRole('link', { name: label, exact: true }).click();
      await page.waitForURL((url) => url.pathname === path);
      await page.getByRole('heading', { level: 1, name: label }).waitFor();
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, 'nothing is wider than a phone');
  });

  await t.test('"Toggle theme" is remembered across a reload, and the dark class is set before React hydrates', async (t) => {
    const { context, page } = await signedInPage(t, browser, app, { colorScheme: 'light' });
    const dark = () => page.evaluate(() => document.documentElement.classList.contains('dark'));
    assert.equal(await dark(), false, 'light, as the system says');
    const toggle = page.getByRole('button', { name: 'Toggle theme' });
    await toggle.click();
    assert.equal(await dark(), true);
    await page.reload();
    assert.equal(await dark(), true, 'still dark after a reload');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');

    // Without any of the app's JavaScript bundles React never hydrates: only the inline theme script can set it.
    const bare = await context.newPage();
    await bare.route('**/_next/static/**/*.js', (route) => route.abort());
    await bare.goto(`${app.base}/runs`);
    assert.equal(await bare.evaluate(() => document.documentElement.classList.contains('dark')), true, 'dark before hydration');
    await bare.close();

    await toggle.click();
    await page.reload();
    assert.equal(await dark(), false, 'back to light, remembered too');
  });

  await t.test('empty pages say how to create the first item; screenshots and axe-core', async (t) => {
    const { page } = await signedInPage(t, browser, app);
    await visit(page, app, '/runs', 'Runs');
    await page.getByText('No runs yet').waitFor();
    await visit(page, app, '/settings/secrets', 'Settings');
    await page.getByText('No secrets yet').waitFor();
    await shootAndCheck(t, page, app, dir, '-empty');

    const signedOut = await browser.newPage({ viewport: PHONE });
    t.after(() => signedOut.close());
    await signedOut.goto(`${app.base}/sign-in`);
    await signedOut.getByRole('heading', { name: 'Sign in to BuildIt' }).waitFor();
    await screenshots(signedOut, dir, 'sign-in');
  });

  await t.test('with data: every page of the app screenshotted; engineer A pages pass axe-core', async (t) => {
    const pipeline = await app.api<{ id: string }>('POST', `/api/v1/tenants/${app.tenantId}/pipelines`, { name: 'shell-demo', config: KDL });
    const run = await app.api<Run>('POST', `/api/v1/pipelines/${pipeline.id}/runs`, {});
    await app.api('PUT', `/api/v1/tenants/${app.tenantId}/secrets/DEPLOY_KEY`, { value: 'not shown anywhere' });
    await app.api('POST', '/api/v1/tokens', { name: 'ci', scopes: ['read'] });
    await app.api('POST', `/api/v1/organizations/${app.organizationId}/invitations`, { email: 'new.person@example.test', role: 'member' });

    const { page } = await signedInPage(t, browser, app);
    await visit(page, app, '/', 'Dashboard');
    await page.locator(`[data-run-id="${run.id}"]`).waitFor();
    await shootAndCheck(t, page, app, dir, '');

    // The other engineers' pages, when they exist in this build: screenshots only.
    for (const [name, path] of [
      ['pipelines', '/pipelines'],
      ['pipeline', `/pipelines/${pipeline.id}`],
      ['pipeline-new', '/pipelines/new'],
      ['run', `/runs/${run.id}`],
    ] as const) {
      const response = await page.goto(`${app.base}${path}`);
      if (response?.status() !== 200) {
        t.diagnostic(`${path}: ${response?.status()}, no screenshot`);
        continue;
      }
      await page.waitForLoadState('networkidle');
      await screenshots(page, dir, name);
    }
  });
});
