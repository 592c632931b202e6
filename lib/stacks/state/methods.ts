/**
 * Terraform's HTTP backend locks with the methods LOCK and UNLOCK by default; Next's route handlers only
 * take GET/POST/PUT/PATCH/DELETE. The web server calls this before Next routes a request: LOCK and UNLOCK
 * of a stack's state become POSTs to its `/lock` and `/unlock` routes, so a laptop's terraform works with
 * the backend's defaults.
 */
const STATE_PATH = /^(\/api\/v1\/stacks\/[^/?]+\/state)(\?.*)?$/;

export function lockMethodRoute(method: string | undefined, url: string | undefined): string | null {
  if ((method !== 'LOCK' && method !== 'UNLOCK') || url === undefined) return null;
  const match = STATE_PATH.exec(url);
  if (!match) return null;
  return `${match[1]}/${method === 'LOCK' ? 'lock' : 'unlock'}${match[2] ?? ''}`;
}
