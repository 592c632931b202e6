/**
 * Shared helpers of the web app's browser tests (tests/web/): a whole BuildIt on a test database with an owner
 * who signs in with a password, a signed-in Chromium page that counts its HTTP requests, screenshots of a page
 * in both themes at desktop and phone width, and an axe-core check.
 *
 *   const browser = await chromiumOrSkip(t);              // tests/support/browser.ts
 *   const app = await startWebApp(t);                     // stopped and dropped after the test
 *   const { page, requests, longTasks } = await signedInPage(t, browser, app);
 *   await screenshots(page, artifactsDir(t, 'shell'), 'dashboard');
 *   await assertNoSeriousAxeViolations(page, 'the dashboard');
 *   const viewer = await addTenantUser(app, 'viewer@example.test');   // then signedInPage(..., { as: viewer })
 *
 * Screenshots go under $BUILDIT_TEST_ARTIFACTS (default tmp/test-artifacts/, gitignored), one folder per group.
 * Outside a test (bench/), launchWebApp and openSignedInPage take a `Defer` instead of the test context.
 * BuildIt is built by the test runner first (npm test builds tests/web/ when stale; BUILDIT_NEXT_DIST_DIR picks
 * the build directory).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey } from '../../lib/auth/api-keys';
import { createFirstOwner } from '../../lib/auth/first-run';
import { hashPassword } from '../../lib/auth/passwords';
import type { TenantRole } from '../../lib/generated/prisma/enums';
import { freeLoopbackPort } from '../../lib/system';
import { startBuildIt, stopWith, waitForReady } from './buildit-process';
import { createTestDatabase, type TestDatabase } from './db';

const root = path.resolve(import.meta.dirname, '../..');
const ACTION_TIMEOUT_MS = 30_000;

export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 375, height: 812 } as const;

export interface WebApp {
  base: string;
  db: TestDatabase;
  organizationId: string;
  tenantId: string;
  email: string;
  password: string;
  /** The owner's API token (`admin` scope), for setting things up. */
  token: string;
  /** The REST API with the owner's token: the parsed answer, or a failed assertion naming the status. */
  api<T>(method: string, apiPath: string, body?: unknown): Promise<T>;
  /** A GET with the owner's token answered with text (a raw log). */
  raw(apiPath: string): Promise<string>;
  /** What BuildIt printed, for failure messages. */
  output: string[];
}

/** Registers a cleanup; cleanups run last in, first out (BuildIt stops before its database is dropped). */
export type Defer = (cleanup: () => void | Promise<void>) => void;

/** A Defer whose cleanups run after the test, in reverse order (node:test runs t.after hooks in the order they were added). */
export function deferrer(t: TestContext): Defer {
  const stack: Array<() => void | Promise<void>> = [];
  t.after(async () => {
    for (const cleanup of stack.reverse()) await cleanup();
  });
  return (cleanup) => stack.push(cleanup);
}

/** BuildIt (web + worker, scripts/start.ts) on a fresh database with one owner, for the length of the test. */
export function startWebApp(t: TestContext, settings: Record<string, string> = {}): Promise<WebApp> {
  return launchWebApp(deferrer(t), settings);
}

/** startWebApp, stopped (and its database dropped) by `defer`; `niceness` and `cpu` as in startBuildIt. */
export async function launchWebApp(
  defer: Defer,
  settings: Record<string, string> = {},
  options: { niceness?: number; cpu?: number | undefined } = {},
): Promise<WebApp> {
  const db = await createTestDatabase();
  defer(() => db.drop());
  const email = 'owner@example.test';
  const password = 'correct horse battery staple';
  const owner = await createFirstOwner(db.prisma, { organizationName: 'Web tests', email, password }, null);
  const { token } = await createApiKey(db.prisma, { organizationId: owner.organizationId, userId: owner.userId, name: 'web test setup', scopes: ['admin'] });

  const port = await freeLoopbackPort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-web-'));
  const started = startBuildIt(
    { ...process.env, DATABASE_URL: db.url, BUILDIT_DATA_DIR: dataDir, BUILDIT_PUBLIC_URL: base, BUILDIT_LOG_LEVEL: 'warn', ...settings },
    port,
    options,
  );
  defer(async () => {
    if (started.process.exitCode === null) await stopWith(started, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });
  await waitForReady(started);

  const api = async <T>(method: string, apiPath: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${apiPath}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const raw = async (apiPath: string): Promise<string> => {
    const response = await fetch(`${base}${apiPath}`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(response.ok, `GET ${apiPath}: ${response.status}`);
    return response.text();
  };
  return { base, db, organizationId: owner.organizationId, tenantId: owner.tenantId, email, password, token, api, raw, output: started.output };
}

export interface SignedInPage {
  context: BrowserContext;
  page: Page;
  /** Every HTTP request of the page so far, as `METHOD url` (a WebSocket's frames are not requests). */
  requests: string[];
  /** Durations of the long tasks Chromium reported on the current document so far (PerformanceObserver `longtask`). */
  longTasks(): Promise<number[]>;
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  as?: Credentials;
  /** Told of the page's errors and console errors (e.g. t.diagnostic). */
  report?: (message: string) => void;
}

export interface Credentials {
  email: string;
  password: string;
}

/** A new browser context (closed after the test) whose page signed in (as the app's owner by default) and is at `/`. */
export function signedInPage(t: TestContext, browser: Browser, app: WebApp, options: PageOptions = {}): Promise<SignedInPage> {
  return openSignedInPage(deferrer(t), browser, app, options);
}

/** signedInPage, its context closed by `defer`. */
export async function openSignedInPage(defer: Defer, browser: Browser, app: WebApp, options: PageOptions = {}): Promise<SignedInPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, colorScheme: options.colorScheme ?? 'light' });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  defer(() => context.close());
  await context.addInitScript(() => {
    const tasks: number[] = [];
    (window as unknown as { __longTasks: number[] }).__longTasks = tasks;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
  const { report } = options;
  if (report) {
    page.on('pageerror', (error) => report(`page error: ${error.message}`));
    page.on('console', (message) => message.type() === 'error' && report(`console error: ${message.text()}`));
  }
  await signIn(page, app, options.as ?? app);
  const longTasks = () => page.evaluate(() => [...(window as unknown as { __longTasks: number[] }).__longTasks]);
  return { context, page, requests, longTasks };
}

/** Signs in with the sign-in form and waits for the dashboard. */
export async function signIn(page: Page, app: WebApp, user: Credentials = app): Promise<void> {
  await page.goto(`${app.base}/sign-in`);
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
}

/** A user with a password who is an organization member with `tenantRole` in the app's tenant (a viewer by default). */
export async function addTenantUser(app: WebApp, email: string, tenantRole: TenantRole = 'viewer'): Promise<Credentials> {
  const password = 'another correct horse battery';
  const user = await app.db.prisma.user.create({ data: { email, passwordHash: await hashPassword(password) } });
  await app.db.prisma.orgMembership.create({ data: { organizationId: app.organizationId, userId: user.id, role: 'member' } });
  await app.db.prisma.tenantMembership.create({ data: { tenantId: app.tenantId, userId: user.id, role: tenantRole } });
  return { email, password };
}

/** `$BUILDIT_TEST_ARTIFACTS/<group>` (default tmp/test-artifacts/<group>), made if missing and named in the test's output. */
export function artifactsDir(t: TestContext, group: string): string {
  const dir = path.resolve(root, process.env.BUILDIT_TEST_ARTIFACTS || 'tmp/test-artifacts', group);
  mkdirSync(dir, { recursive: true });
  t.diagnostic(`screenshots in ${dir}`);
  return dir;
}

/**
 * Full-page screenshots `<name>-<desktop|phone>-<light|dark>.png` of the page as it is now: the `dark` class
 * on <html> switched as the theme toggle does, at desktop and phone width. The page is left light, at desktop width.
 */
export async function screenshots(page: Page, dir: string, name: string): Promise<void> {
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    for (const theme of ['light', 'dark'] as const) {
      await page.evaluate((dark) => document.documentElement.classList.toggle('dark', dark), theme === 'dark');
      await page.screenshot({ path: path.join(dir, `${name}-${size}-${theme}.png`), fullPage: true });
    }
  }
  await page.evaluate(() => document.documentElement.classList.remove('dark'));
  await page.setViewportSize(DESKTOP);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core (injected as `axe.source`) over the whole page: fails on a serious or critical violation, naming the rule and elements. */
export async function assertNoSeriousAxeViolations(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async (): Promise<AxeViolation[]> => {
    type Result = { violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown }> }> };
    const axe = (window as unknown as { axe: { run(): Promise<Result> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((node) => JSON.stringify(node.target)),
    }));
  });
  const grave = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  assert.deepEqual(grave, [], `${what}: axe-core found serious or critical violations`);
}
