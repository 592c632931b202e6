/**
 * Every page of the app in a real Chromium against a whole BuildIt, screenshotted in light and dark at desktop
 * and phone width (under $BUILDIT_TEST_ARTIFACTS/shell/): the pages with an empty state before anything exists,
 * then every page with data; engineer A's pages are checked with axe-core (no serious or critical violation).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import type { Run } from '../../lib/api/schemas/runs';
import { chromiumOrSkip } from '../support/browser';
import { TEST_IMAGE } from '../support/engines';
import { PHONE, artifactsDir, assertNoSeriousAxeViolations, screenshots, signedInPage, startWebApp, type WebApp } from '../support/web';

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

/** The pages that show an empty state in a new installation. */
const EMPTY_PAGES = OWN_PAGES.filter((own) => ['dashboard', 'runs', 'settings-secrets'].includes(own.name));

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

async function shootAndCheck(
  t: TestContext,
  page: Page,
  app: WebApp,
  dir: string,
  pages: readonly (typeof OWN_PAGES)[number][],
  suffix: string,
): Promise<void> {
  for (const own of pages) {
    await visit(page, app, own.path, own.heading);
    await screenshots(page, dir, `${own.name}${suffix}`);
    await assertNoSeriousAxeViolations(page, `${own.path}${suffix}`);
  }
  t.diagnostic(`${pages.length} pages${suffix} screenshotted and checked with axe-core`);
}

test('every page in both themes at desktop and phone width; axe-core on engineer A pages', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const app = await startWebApp(t);
  const dir = artifactsDir(t, 'shell');

  await t.test('empty pages say how to create the first item; screenshots and axe-core', async (t) => {
    const { page } = await signedInPage(t, browser, app);
    await visit(page, app, '/runs', 'Runs');
    await page.getByText('No runs yet').waitFor();
    await visit(page, app, '/settings/secrets', 'Settings');
    await page.getByText('No secrets yet').waitFor();
    await shootAndCheck(t, page, app, dir, EMPTY_PAGES, '-empty');

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
    await shootAndCheck(t, page, app, dir, OWN_PAGES, '');

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
