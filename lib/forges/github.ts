/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, the event in
 * `X-GitHub-Event`, the delivery in `X-GitHub-Delivery` (kept by a redelivery).
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads
 */
import {
  httpUrl,
  authorOf,
  constantTimeEqual,
  hmacSha256Hex,
  record,
  type Forge,
  type ParsedDelivery,
  type ParsedWithoutTarget,
  type StatusTarget,
  withStatusTarget,
} from './types';
import { githubStylePullRequest, githubStylePush } from './github-style';

/** Pull request actions that put new code in front of the pipeline. */
const PULL_REQUEST_ACTIONS = ['opened', 'synchronize', 'reopened'];

export const github: Forge = {
  name: 'github',
  deliveryHeader: 'x-github-delivery',

  verify(headers, body, secret) {
    const signature = headers.get('x-hub-signature-256');
    if (signature === null) return false;
    return constantTimeEqual(signature.trim().toLowerCase(), `sha256=${hmacSha256Hex(secret, body)}`);
  },

  parse(headers, payload): ParsedDelivery {
    return withStatusTarget(parseEvent(headers, payload), () => statusTarget(record(payload)));
  },
};

function parseEvent(headers: Headers, payload: unknown): ParsedWithoutTarget {
  const event = headers.get('x-github-event');
  const body = record(payload);
  switch (event) {
    case 'push': {
      const pusher = record(body.pusher);
      return githubStylePush(body, authorOf(pusher.name, pusher.email));
    }
    case 'pull_request':
      return githubStylePullRequest(body, PULL_REQUEST_ACTIONS);
    case 'ping':
      return { kind: 'ignored', reason: 'ping: the webhook works' };
    case null:
      return { kind: 'ignored', reason: 'no X-GitHub-Event header' };
    default:
      return { kind: 'ignored', reason: `GitHub event "${event}" starts no run (only push and pull_request)` };
  }
}

/**
 * Where GitHub takes the commit status: `repository.full_name` on the API base of the payload's
 * `statuses_url` or `url` (https://api.github.com, or GitHub Enterprise's https://host/api/v3). A push's
 * `repository.url` is the web URL: github.com means https://api.github.com, another host its /api/v3.
 */
function statusTarget(body: Record<string, unknown>): StatusTarget | null {
  const repository = record(body.repository);
  const fullName = repository.full_name;
  if (typeof fullName !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(fullName)) return null;
  for (const candidate of [repository.statuses_url, repository.url]) {
    const url = httpUrl(typeof candidate === 'string' ? candidate.replace(/\{[^}]*\}$/, '') : null);
    if (url === null) continue;
    const at = url.pathname.toLowerCase().indexOf(`/repos/${fullName.toLowerCase()}`);
    if (at >= 0) return { forge: 'github', apiUrl: `${url.origin}${url.pathname.slice(0, at)}`, repository: fullName };
  }
  const web = httpUrl(repository.html_url) ?? httpUrl(repository.url);
  if (web === null) return null;
  const apiUrl = web.hostname === 'github.com' ? 'https://api.github.com' : `${web.origin}/api/v3`;
  return { forge: 'github', apiUrl, repository: fullName };
}
