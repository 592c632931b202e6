/**
 * CSRF protection of cookie-authenticated writes (lib/auth/cross-site.ts): which requests crossSiteProblem
 * lets through, from the headers a browser sends, with BUILDIT_PUBLIC_URL set and unset.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { crossSiteProblem } from '../../lib/auth/cross-site';

const PUBLIC_URL = 'https://ci.example.com/buildit/';
let saved: { publicUrl: string | undefined; port: string | undefined };

beforeEach(() => {
  saved = { publicUrl: process.env.BUILDIT_PUBLIC_URL, port: process.env.PORT };
  process.env.BUILDIT_PUBLIC_URL = PUBLIC_URL;
});

afterEach(() => {
  for (const [name, value] of [
    ['BUILDIT_PUBLIC_URL', saved.publicUrl],
    ['PORT', saved.port],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const problem = (method: string, headers: Record<string, string>) => crossSiteProblem(method, new Headers(headers));

function assertRefused(method: string, headers: Record<string, string>, message: RegExp): void {
  const refusal = problem(method, headers);
  assert.equal(typeof refusal, 'string', `${method} ${JSON.stringify(headers)} was allowed`);
  assert.match(refusal!, message);
}

describe('safe methods', () => {
  test('GET, HEAD and OPTIONS are allowed from anywhere, with or without Origin', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get', 'head']) {
      assert.equal(problem(method, { origin: 'https://evil.example', host: 'ci.example.com', 'sec-fetch-site': 'cross-site' }), null, method);
      assert.equal(problem(method, {}), null, method);
    }
  });
});

describe('writes with an Origin', () => {
  test("allowed from BUILDIT_PUBLIC_URL's origin (whatever the Host the proxy passes on)", () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'post']) {
      assert.equal(problem(method, { origin: 'https://ci.example.com', host: '10.0.0.5:3000' }), null, method);
      assert.equal(problem(method, { origin: 'https://ci.example.com' }), null, `${method} without Host`);
    }
  });

  test("another scheme or port than BUILDIT_PUBLIC_URL's is not its origin", () => {
    assertRefused('POST', { origin: 'https://ci.example.com:8443', host: 'other.example' }, /https:\/\/ci\.example\.com:8443/);
    assertRefused('POST', { origin: 'http://ci.example.com', host: 'other.example' }, /http:\/\/ci\.example\.com/);
  });

  test('allowed when the Origin names the host the request was sent to (Host, or X-Forwarded-Host first)', () => {
    assert.equal(problem('POST', { origin: 'http://10.0.0.5:3000', host: '10.0.0.5:3000' }), null);
    assert.equal(problem('POST', { origin: 'https://build.internal', host: '127.0.0.1:3000', 'x-forwarded-host': 'build.internal' }), null);
    assert.equal(problem('POST', { origin: 'https://build.internal', host: '127.0.0.1:3000', 'x-forwarded-host': 'build.internal, edge.proxy' }), null);
    assert.equal(problem('DELETE', { origin: 'https://build.internal', 'x-forwarded-host': ' build.internal ' }), null);
  });

  test('a port differing from the Host’s is another origin', () => {
    assertRefused('POST', { origin: 'http://10.0.0.5:3001', host: '10.0.0.5:3000' }, /from http:\/\/10\.0\.0\.5:3001/);
  });

  test('a proxy’s X-Forwarded-Host names the host: matching only the Host behind it is refused', () => {
    assertRefused('POST', { origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000', 'x-forwarded-host': 'build.internal' }, /127\.0\.0\.1:3000/);
  });

  test('a foreign Origin is refused, and the message names it', () => {
    const refusal = problem('POST', { origin: 'https://evil.example', host: 'ci.example.com', 'sec-fetch-site': 'same-origin' });
    assert.equal(typeof refusal, 'string');
    assert.match(refusal!, /cross-site request refused/);
    assert.match(refusal!, /https:\/\/evil\.example/);
  });

  test('the Origin `null` (a sandboxed page, a redirect) and a malformed Origin are refused', () => {
    assertRefused('POST', { origin: 'null', host: 'ci.example.com' }, /came from null/);
    assertRefused('PUT', { origin: 'not a url', host: 'ci.example.com' }, /not a url/);
  });

  test('a very long Origin is cut in the message', () => {
    const origin = `https://${'a'.repeat(5000)}.example`;
    const refusal = problem('POST', { origin, host: 'ci.example.com' });
    assert.ok(refusal !== null && refusal.length < 600, 'the message stays short');
    assert.ok(refusal.includes(origin.slice(0, 200)) && !refusal.includes(origin.slice(0, 201)));
  });

  test('without BUILDIT_PUBLIC_URL, the default public URL (http://localhost:<port>) is the origin', () => {
    delete process.env.BUILDIT_PUBLIC_URL;
    process.env.PORT = '4123';
    assert.equal(problem('POST', { origin: 'http://localhost:4123', host: '127.0.0.1:4123' }), null);
    assertRefused('POST', { origin: 'https://ci.example.com', host: '127.0.0.1:4123' }, /https:\/\/ci\.example\.com/);
  });
});

describe('writes without an Origin', () => {
  test('allowed with `Sec-Fetch-Site: same-origin`', () => {
    assert.equal(problem('POST', { 'sec-fetch-site': 'same-origin' }), null);
    assert.equal(problem('DELETE', { 'sec-fetch-site': 'same-origin', host: 'elsewhere.example' }), null);
  });

  test('refused with another Sec-Fetch-Site (same-site, cross-site, none)', () => {
    for (const site of ['same-site', 'cross-site', 'none']) assertRefused('POST', { 'sec-fetch-site': site, host: 'ci.example.com' }, /no Origin header/);
  });

  test('refused without Sec-Fetch-Site either: scripts are told to use an API token', () => {
    assertRefused('POST', {}, /no Origin header/);
    assertRefused('PATCH', { host: 'ci.example.com' }, /API token/);
  });
});
