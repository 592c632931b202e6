/**
 * The app shell in a real Chromium against a whole BuildIt: the sidebar reaches every section (desktop and
 * phone), and the theme toggle persists across a reload with the `dark` class set before React hydrates.
 * Screenshots and axe-core of every page: shell-pages.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromiumOrSkip } from '../support/browser';
import { PHONE, signedInPage, startWebApp } from '../support/web';

const SECTIONS = [
  { label: 'Dashboard', path: '/' },
  { label: 'Pipelines', path: '/pipelines' },
  { label: 'Runs', path: '/runs' },
  { label: 'Stacks', path: '/stacks' },
  { label: 'Environments', path: '/environments' },
  { label: 'Settings', path: '/settings' },
] as const;

test('the shell: navigation and theme', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const app = await startWebApp(t);

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
});
