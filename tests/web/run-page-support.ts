/**
 * What the run page's browser tests share: a whole BuildIt (scripts/start.ts: web + worker on the Docker
 * engine) on a test database with an owner who signs in with a password and an API token for setting things
 * up; pipelines and runs made through the REST API; a signed-in Chromium page that counts its HTTP requests
 * and records long tasks; screenshots (written under $BUILDIT_TEST_ARTIFACTS, default tmp/test-artifacts/)
 * and an axe-core check.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Run } from '../../lib/api/schemas/runs';
import { createApiKey } from '../../lib/auth/api-keys';
import { createFirstOwner } from '../../lib/auth/first-run';
import { sleep } from '../../lib/async';
import { freeLoopbackPort } from '../../lib/system';
import { startBuildIt, stopWith, waitForReady } from '../support/buildit-process';
import { createTestDatabase } from '../support/db';

export const IMAGE = 'local/busybox:latest';
const ACTION_TIMEOUT_MS = 30_000;
const root = path.resolve(import.meta.dirname, '../..');

export interface App {
  base: string;
  tenantId: string;
  email: string;
  password: string;
  /** The REST API as the owner (an admin token). */
  api<T>(method: string, apiPath: string, body?: unknown): Promise<T>;
  /** A GET answered with text (the raw log). */
  raw(apiPath: string): Promise<string>;
  output: string[];
}

/** Registers a cleanup; cleanups run last in, first out (BuildIt stops before its database goes). */
export type Defer = (cleanup: () => unknown) => void;

/** A Defer whose cleanups run after the test, in reverse order (node:test runs t.after hooks in order). */
export function deferrer(t: TestContext): Defer {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    for (const cleanup of stack.reverse()) await cleanup();
  });
  return (cleanup) => stack.push(cleanup);
}

/** BuildIt on a fresh database with one owner, stopped (and its database dropped) by `defer`. */
export async function startApp(defer: Defer): Promise<App> {
  const db = await createTestDatabase();
  defer(() => db.drop());
  const email = 'owner@example.test';
  const password = 'correct horse battery staple';
  const owner = await createFirstOwner(db.prisma, { organizationName: 'Run page', email, password }, null);
  const { token } = await createApiKey(db.prisma, { organizationId: owner.organizationId, userId: owner.userId, name: 'run page test', scopes: ['admin'] });

  const port = await freeLoopbackPort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-run-page-'));
  const started = startBuildIt(
    { ...process.env, DATABASE_URL: db.url, BUILDIT_DATA_DIR: dataDir, BUILDIT_PUBLIC_URL: base, BUILDIT_LOG_LEVEL: 'warn', BUILDIT_WORKER_GRACE_MS: '2000' },
    port,
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
    return JSON.parse(text) as T;
  };
  const raw = async (apiPath: string): Promise<string> => {
    const response = await fetch(`${base}${apiPath}`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(response.ok, `GET ${apiPath}: ${response.status}`);
    return response.text();
  };
  return { base, tenantId: owner.tenantId, email, password, api, raw, output: started.output };
}

/** Creates a pipeline with this config and triggers a manual run of it. */
export async function startRun(app: App, name: string, kdl: string): Promise<Run> {
  const pipeline = await app.api<{ id: string }>('POST', `/api/v1/tenants/${app.tenantId}/pipelines`, { name, config: kdl });
  return app.api<Run>('POST', `/api/v1/pipelines/${pipeline.id}/runs`, {});
}

/** Polls the API (the test, not the page) until the run satisfies `done`. */
export async function waitForRun(app: App, runId: string, done: (run: Run) => boolean, timeoutMs = 120_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await app.api<Run>('GET', `/api/v1/runs/${runId}`);
    if (done(run)) return run;
    assert.ok(Date.now() < deadline, `run ${runId} did not get there within ${timeoutMs} ms: ${JSON.stringify(run)}`);
    await sleep(250);
  }
}

export interface WatchedPage {
  page: Page;
  /** HTTP requests the page made so far (WebSocket frames are not requests). */
  requests: string[];
  /** Durations of the long tasks Chromium reported so far (PerformanceObserver `longtask`). */
  longTasks(): Promise<number[]>;
}

/** A new browser context signed in as the app's owner, with requests counted and long tasks recorded. */
export async function signedInPage(defer: Defer, browser: Browser, app: App, report: (message: string) => void = console.log): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
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
  page.on('pageerror', (error) => report(`page error: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && report(`console error: ${message.text()}`));
  await page.goto(`${app.base}/sign-in`);
  await page.getByLabel('Email', { exact: true }).fill(app.email);
  await page.getByLabel('Password', { exact: true }).fill(app.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
  return { page, requests, longTasks: () => page.evaluate(() => [...(window as unknown as { __longTasks: number[] }).__longTasks]) };
}

/** The DAG node of a stage (its `data-status` is the stage's status). */
export const stageNode = (page: Page, stageId: string) => page.locator(`.react-flow [data-stage="${stageId}"]`);

/** Waits until the stage's node says `status`. */
export async function waitForNodeStatus(page: Page, stageId: string, status: string, timeout = 90_000): Promise<void> {
  await page.waitForFunction(
    ([id, wanted]) => document.querySelector(`.react-flow [data-stage="${CSS.escape(id!)}"]`)?.getAttribute('data-status') === wanted,
    [stageId, status],
    { timeout },
  );
}

/** Where screenshots go (printed by the test, so people find them). */
export function artifactsDir(): string {
  const dir = path.resolve(root, process.env.BUILDIT_TEST_ARTIFACTS || 'tmp/test-artifacts', 'run-page');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The page in light and in dark (the theme toggle's class on <html>), as PNG files named `<name>-light|dark.png`. */
export async function screenshotBothThemes(page: Page, dir: string, name: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await page.evaluate((dark) => document.documentElement.classList.toggle('dark', dark), theme === 'dark');
    await page.screenshot({ path: path.join(dir, `${name}-${theme}.png`), fullPage: true });
  }
  await page.evaluate(() => document.documentElement.classList.remove('dark'));
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core over the page: fails on any serious or critical violation, naming the rule and the elements. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown }> }> }> } }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(grave, [], `${what}: axe-core found serious or critical violations`);
}
