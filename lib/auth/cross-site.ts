/**
 * CSRF protection of cookie-authenticated writes: the browser says which page sent a request (`Origin`,
 * or `Sec-Fetch-Site`), and another site cannot make it lie. API tokens need none of this: a browser never
 * adds them on its own.
 */
import { publicUrlFromEnv } from '../config/env';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Why a request may not write with the session cookie; null when it may. */
export function crossSiteProblem(method: string, headers: Headers): string | null {
  if (SAFE_METHODS.has(method.toUpperCase())) return null;
  const origin = headers.get('origin');
  if (origin === null) {
    if (headers.get('sec-fetch-site') === 'same-origin') return null;
    return 'a write signed in with the session cookie must come from BuildIt’s pages (no Origin header): scripts use an API token';
  }
  if (sameOrigin(origin, headers)) return null;
  return `cross-site request refused: a write signed in with the session cookie came from ${origin.slice(0, 200)}, not from BuildIt’s pages`;
}

/** The page's origin is BUILDIT_PUBLIC_URL's, or the host the request was sent to (directly or through a proxy). */
function sameOrigin(origin: string, headers: Headers): boolean {
  if (origin === publicUrlFromEnv().origin) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const requestHost = headers.get('x-forwarded-host')?.split(',')[0]?.trim() ?? headers.get('host');
  return requestHost !== null && requestHost !== undefined && host === requestHost;
}
