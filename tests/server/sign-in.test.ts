/**
 * Sign-in end to end (issue 12), in a real Chromium against the whole BuildIt (scripts/start.ts on a test
 * database): OpenID Connect against a mock issuer, the first-run setup page then email + password, signing
 * out (the old session cookie stops working for the API and for Socket.IO), and cookie-authenticated writes
 * refused from a foreign origin. One BuildIt per set of settings: OpenID Connect only, then no provider.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { io } from 'socket.io-client';
import { freeLoopbackPort } from '../../lib/system';
import { startBuildIt, stopWith, waitForReady } from '../support/buildit-process';
import { chromiumOrSkip } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { oidcUser, startOidcIssuer } from '../support/oidc-issuer';

const OIDC_NAME = 'Test Identity';
const EVIL_ORIGIN = 'http://evil.example';
const SESSION_COOKIE = /^(__Secure-)?next-auth\.session-token(\.\d+)?$/;
/** Next.js's own live region (role="alert", in a shadow root) is not an error message. */
const ALERT = '[role="alert"]:not(#__next-route-announcer__)';
const ACTION_TIMEOUT_MS = 20_000;

/** Settings of the environment that would change what these tests see: each scenario sets its own. */
const SIGN_IN_VARIABLES = /^BUILDIT_(PUBLIC_URL|OIDC_.*|GITHUB_.*|GOOGLE_.*|PASSWORD_SIGNIN|ADMIN_EMAIL|ADMIN_PASSWORD|AUTH_SECRET|BOOTSTRAP_TOKEN)$/;

interface App {
  base: string;
  output: string[];
}

type Defer = (cleanup: () => unknown) => void;

/** Cleanups run last in, first out (node:test runs t.after hooks in the order they were added): BuildIt stops before its database goes. */
function deferrer(t: TestContext): Defer {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const cleanup of stack.reverse())
      await Promise.resolve()
        .then(cleanup)
        .catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  });
  return (cleanup) => stack.push(cleanup);
}

/** BuildIt on `db` with `settings` (and BUILDIT_PUBLIC_URL), stopped after the test. */
async function startApp(t: TestContext, defer: Defer, db: TestDatabase, settings: Record<string, string>): Promise<App> {
  const port = await freeLoopbackPort();
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (SIGN_IN_VARIABLES.test(name)) delete env[name];
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-sign-in-'));
  const started = startBuildIt({ ...env, DATABASE_URL: db.url, BUILDIT_DATA_DIR: dataDir, BUILDIT_PUBLIC_URL: base, ...settings }, port);
  defer(async () => {
    if (started.process.exitCode === null) await stopWith(started, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });
  const startedAt = Date.now();
  await waitForReady(started);
  t.diagnostic(`BuildIt ready in ${Date.now() - startedAt} ms`);
  return { base, output: started.output };
}

/** Pages of the running subtest (they run one at a time), described in its failure. */
let pagesOfStep: Page[] = [];

async function newContext(t: TestContext, browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  t.after(() => context.close());
  const page = await context.newPage();
  pagesOfStep.push(page);
  return { context, page };
}

async function describePage(page: Page): Promise<string> {
  if (page.isClosed()) return 'a closed page';
  const text = await page
    .locator('body')
    .innerText({ timeout: 2000 })
    .catch((error: Error) => `(no text: ${error.message.split('\n')[0]})`);
  return `${page.url()} showing: ${text.replace(/\s+/g, ' ').trim().slice(0, 600) || '(nothing)'}`;
}

/** A subtest whose failure also says where each of its pages was and what it showed. */
async function step(t: TestContext, name: string, fn: (t: TestContext) => Promise<void>): Promise<void> {
  await t.test(name, async (t) => {
    pagesOfStep = [];
    try {
      await fn(t);
    } catch (error) {
      const pages = await Promise.all(pagesOfStep.map(describePage));
      if (error instanceof Error && pages.length > 0) {
        const where = `\n-- the browser was at ${pages.join('\n-- and at ')}`;
        error.message += where;
        error.stack = `${error.stack ?? ''}${where}`;
      }
      throw error;
    }
  });
}

const atPath = (base: string, pathname: string) => (url: URL) => url.origin === base && url.pathname === pathname;

async function sessionCookies(context: BrowserContext, base: string): Promise<Cookie[]> {
  return (await context.cookies(base)).filter((cookie) => SESSION_COOKIE.test(cookie.name));
}

/** The Cookie header a browser would send with the session: the value to replay after signing out. */
async function sessionCookieHeader(context: BrowserContext, base: string): Promise<string> {
  const cookies = await sessionCookies(context, base);
  assert.ok(cookies.length > 0, `a session cookie after signing in; the browser has: ${(await context.cookies(base)).map((c) => c.name).join(', ')}`);
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
}

async function api(base: string, method: string, route: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${base}${route}`, {
    method,
    redirect: 'manual',
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

/** A Socket.IO connection that authenticates with the cookie alone, as the web app's does: 'connected', or why not. */
function socketWithCookie(base: string, cookie: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(base, {
      path: '/socket.io',
      forceNew: true,
      reconnection: false,
      timeout: 15_000,
      // A browser sends its page's origin with the handshake; the server may demand it for cookie sessions.
      extraHeaders: { cookie, origin: new URL(base).origin },
    });
    socket.on('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.on('connect_error', (error: Error & { type?: string; data?: unknown }) => {
      socket.close();
      // A refusal by the server comes back as its message; a timeout or a broken transport is not one.
      const unreachable = error.message === 'timeout' || error.type === 'TransportError';
      resolve(`${unreachable ? 'unreachable' : 'refused'}: ${error.message}${error.data === undefined ? '' : ` ${JSON.stringify(error.data)}`}`);
    });
  });
}

/** The visible error messages of the page (role="alert" with some text). */
async function alerts(page: Page): Promise<string[]> {
  const texts = await page.locator(ALERT).allInnerTexts();
  return texts.map((text) => text.trim()).filter(Boolean);
}

async function waitForAlert(page: Page): Promise<string> {
  await page.locator(ALERT).filter({ hasText: /\S/ }).first().waitFor({ state: 'visible' });
  return (await alerts(page)).join(' | ');
}

async function signInWithPassword(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

test('OpenID Connect: sign-in through the provider, refusal of an email nobody admits, sign-out', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const defer = deferrer(t);
  const issuer = await startOidcIssuer();
  defer(() => issuer.stop());
  const db = await createTestDatabase();
  defer(() => db.drop());
  const org = await db.prisma.organization.create({ data: { slug: 'example', name: 'Example Builders', allowedEmailDomains: ['example.com'] } });
  const app = await startApp(t, defer, db, {
    BUILDIT_OIDC_ISSUER: issuer.url,
    BUILDIT_OIDC_CLIENT_ID: 'buildit-e2e',
    BUILDIT_OIDC_CLIENT_SECRET: 'buildit-e2e-client-secret',
    BUILDIT_OIDC_NAME: OIDC_NAME,
    BUILDIT_PASSWORD_SIGNIN: 'off',
  });
  const { base } = app;
  const alice = oidcUser('alice@example.com', 'Alice Example');

  await step(t, 'signed out, / leads to /sign-in, which offers the provider and no password form', async (t) => {
    const { page } = await newContext(t, browser);
    await page.goto(`${base}/`);
    await page.waitForURL(atPath(base, '/sign-in'));
    await page.getByRole('heading', { name: 'Sign in to BuildIt' }).waitFor();
    assert.equal(await page.getByRole('button', { name: `Continue with ${OIDC_NAME}` }).count(), 1);
    assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0, 'BUILDIT_PASSWORD_SIGNIN=off: no password field');
  });

  await step(t, '"Continue with" goes through the issuer and back to /, signed in with an HttpOnly, SameSite=Lax cookie that the API takes', async (t) => {
    const { context, page } = await newContext(t, browser);
    issuer.user = alice;
    const authorizeBefore = issuer.served.authorize;
    const visitedIssuer: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${issuer.url}/`)) visitedIssuer.push(request.url());
    });

    await page.goto(`${base}/sign-in`);
    await page.getByRole('button', { name: `Continue with ${OIDC_NAME}` }).click();
    await page.waitForURL(atPath(base, '/'));
    await page.getByText(`Signed in as ${alice.email}`).waitFor();
    await page.getByText(org.name).first().waitFor();
    assert.ok(
      visitedIssuer.some((url) => new URL(url).pathname === '/authorize'),
      `the browser went to the issuer's authorize endpoint: ${visitedIssuer.join(', ')}`,
    );
    assert.equal(issuer.served.authorize, authorizeBefore + 1);

    const cookies = await sessionCookies(context, base);
    assert.ok(cookies.length > 0, 'a session cookie');
    for (const cookie of cookies) {
      assert.equal(cookie.httpOnly, true, `${cookie.name} is HttpOnly`);
      assert.equal(cookie.sameSite, 'Lax', `${cookie.name} is SameSite=Lax`);
    }
    const cookie = await sessionCookieHeader(context, base);
    const withCookie = await api(base, 'GET', '/api/v1/organizations', { cookie });
    assert.equal(withCookie.status, 200, withCookie.text);
    assert.ok(withCookie.text.includes(org.id), `alice sees ${org.slug}: ${withCookie.text}`);
    const without = await api(base, 'GET', '/api/v1/organizations', {});
    assert.equal(without.status, 401, without.text);

    const user = await db.prisma.user.findUnique({ where: { email: alice.email }, include: { orgMemberships: true } });
    assert.ok(user, 'the user was created');
    assert.deepEqual(
      user.orgMemberships.map((membership) => membership.organizationId),
      [org.id],
      'joined the organization that admits example.com',
    );
  });

  await step(t, 'an email of a domain no organization admits, without an invitation, is refused with a visible error', async (t) => {
    const { context, page } = await newContext(t, browser);
    const mallory = oidcUser('mallory@elsewhere.test', 'Mallory Elsewhere');
    issuer.user = mallory;
    const authorizeBefore = issuer.served.authorize;

    await page.goto(`${base}/sign-in`);
    assert.deepEqual(await alerts(page), [], 'no error before trying');
    await page.getByRole('button', { name: `Continue with ${OIDC_NAME}` }).click();
    const message = await waitForAlert(page);
    t.diagnostic(`refused: ${message}`);
    assert.equal(issuer.served.authorize, authorizeBefore + 1, 'the refusal came after the provider signed the user in');
    assert.ok(atPath(base, '/sign-in')(new URL(page.url())), `the error is shown on /sign-in, not at ${page.url()}`);

    assert.deepEqual(
      (await sessionCookies(context, base)).map((c) => c.name),
      [],
      'no session cookie',
    );
    await page.goto(`${base}/`);
    await page.waitForURL(atPath(base, '/sign-in'));
    const memberships = await db.prisma.orgMembership.count({ where: { user: { email: mallory.email } } });
    assert.equal(memberships, 0, 'mallory joined no organization');
  });

  await step(t, 'signing out revokes the session: the old cookie gets 401 from the API and connect_error from Socket.IO', async (t) => {
    const { context, page } = await newContext(t, browser);
    issuer.user = alice;
    await page.goto(`${base}/sign-in`);
    await page.getByRole('button', { name: `Continue with ${OIDC_NAME}` }).click();
    await page.waitForURL(atPath(base, '/'));
    await page.getByText(`Signed in as ${alice.email}`).waitFor();
    const cookie = await sessionCookieHeader(context, base);
    const liveSessions = () => db.prisma.session.count({ where: { user: { email: alice.email }, revokedAt: null, expiresAt: { gt: new Date() } } });
    const liveBefore = await liveSessions();
    assert.ok(liveBefore >= 1, 'a live session row while signed in');

    assert.equal((await api(base, 'GET', '/api/v1/organizations', { cookie })).status, 200, 'the API takes the cookie before signing out');
    assert.equal(await socketWithCookie(base, cookie), 'connected', 'Socket.IO takes the cookie before signing out');

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.waitForURL(atPath(base, '/sign-out'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(atPath(base, '/sign-in'));

    const after = await api(base, 'GET', '/api/v1/organizations', { cookie });
    assert.equal(after.status, 401, `the old cookie after signing out: ${after.text}`);
    const socket = await socketWithCookie(base, cookie);
    t.diagnostic(`Socket.IO with the old cookie: ${socket}`);
    assert.match(socket, /^refused: /, 'Socket.IO refuses the old cookie');
    assert.equal(await liveSessions(), liveBefore - 1, 'the session is revoked in the database');
    await page.goto(`${base}/`);
    await page.waitForURL(atPath(base, '/sign-in'));
  });
});

test('first run: setup page, then email + password sign-in; cookie writes from a foreign origin are refused', async (t) => {
  const browser = await chromiumOrSkip(t);
  if (!browser) return;
  const defer = deferrer(t);
  const db = await createTestDatabase();
  defer(() => db.drop());
  // No provider, password sign-in on (the default): a fresh install.
  const { base } = await startApp(t, defer, db, {});
  const admin = { organization: 'Acme Builds', email: 'admin@acme.test', password: 'correct horse battery staple' };

  await step(t, 'a fresh install: / leads to /sign-in, which links to /setup; it creates the organization and its owner', async (t) => {
    const { page } = await newContext(t, browser);
    await page.goto(`${base}/`);
    await page.waitForURL(atPath(base, '/sign-in'));
    await page.getByRole('heading', { name: 'Sign in to BuildIt' }).waitFor();

    await page.getByRole('link', { name: 'Set up BuildIt' }).click();
    await page.waitForURL(atPath(base, '/setup'));
    await page.getByRole('heading', { name: 'Set up BuildIt' }).waitFor();
    await page.getByLabel('Organization name', { exact: true }).fill(admin.organization);
    await page.getByLabel('Email', { exact: true }).fill(admin.email);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL((url) => atPath(base, '/sign-in')(url) && url.searchParams.get('setup') === 'done');

    const user = await db.prisma.user.findUnique({ where: { email: admin.email }, include: { orgMemberships: { include: { organization: true } } } });
    assert.ok(user, 'the owner was created');
    assert.deepEqual(
      user.orgMemberships.map((m) => [m.organization.name, m.role]),
      [[admin.organization, 'owner']],
    );
    assert.notEqual(user.passwordHash, null);
    assert.ok(!user.passwordHash!.includes(admin.password), 'the password is stored hashed');
  });

  await step(t, 'a wrong password shows an error and stays signed out', async (t) => {
    const { context, page } = await newContext(t, browser);
    assert.ok(await db.prisma.user.findUnique({ where: { email: admin.email } }), 'the owner made by the setup page exists');
    await signInWithPassword(page, base, admin.email, 'not the password');
    const message = await waitForAlert(page);
    t.diagnostic(`wrong password: ${message}`);
    assert.ok(atPath(base, '/sign-in')(new URL(page.url())), `still on /sign-in: ${page.url()}`);
    assert.deepEqual(
      (await sessionCookies(context, base)).map((c) => c.name),
      [],
      'no session cookie',
    );
    await page.goto(`${base}/`);
    await page.waitForURL(atPath(base, '/sign-in'));
  });

  await step(t, 'the right password signs in; /setup is gone for good', async (t) => {
    const { context, page } = await newContext(t, browser);
    await signInWithPassword(page, base, admin.email, admin.password);
    await page.waitForURL(atPath(base, '/'));
    await page.getByText(`Signed in as ${admin.email}`).waitFor();
    await page.getByText(admin.organization).first().waitFor();
    const cookie = await sessionCookieHeader(context, base);
    assert.equal((await api(base, 'GET', '/api/v1/organizations', { cookie })).status, 200);

    const { page: signedOut } = await newContext(t, browser);
    await signedOut.goto(`${base}/setup`);
    await signedOut.waitForURL(atPath(base, '/sign-in'));
    assert.equal(await signedOut.getByRole('button', { name: 'Create organization' }).count(), 0);
    assert.equal(await signedOut.getByRole('link', { name: 'Set up BuildIt' }).count(), 0, 'the sign-in page no longer offers the setup');
  });

  await step(t, 'a cookie-authenticated POST from a foreign Origin is 403 and creates nothing; from the public origin it works', async (t) => {
    const { context, page } = await newContext(t, browser);
    await signInWithPassword(page, base, admin.email, admin.password);
    await page.waitForURL(atPath(base, '/'));
    const cookie = await sessionCookieHeader(context, base);
    const tenantsBefore = await db.prisma.tenant.count();

    const evil = await api(base, 'POST', '/api/v1/tenants', { cookie, origin: EVIL_ORIGIN }, { name: 'Evil tenant' });
    assert.equal(evil.status, 403, evil.text);
    const noOrigin = await api(base, 'POST', '/api/v1/tenants', { cookie }, { name: 'Tenant without origin' });
    assert.equal(noOrigin.status, 403, `a cookie write without Origin: ${noOrigin.text}`);
    assert.equal(await db.prisma.tenant.count(), tenantsBefore, 'nothing was created');

    // The same request from BuildIt's own origin is allowed: the 403 was the origin's doing, not the role's.
    const own = await api(base, 'POST', '/api/v1/tenants', { cookie, origin: base }, { name: 'Own tenant' });
    assert.equal(own.status, 201, own.text);
    assert.equal(await db.prisma.tenant.count(), tenantsBefore + 1);
    assert.equal(await db.prisma.tenant.count({ where: { name: { in: ['Evil tenant', 'Tenant without origin'] } } }), 0);
  });
});
