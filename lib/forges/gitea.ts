/**
 * Gitea (and Forgejo, which sends the same headers) webhooks: `X-Gitea-Signature: <hex HMAC-SHA256 of the
 * raw body>`, the event in `X-Gitea-Event`, the delivery in `X-Gitea-Delivery`.
 * https://docs.gitea.com/usage/webhooks
 */
import {
  baseBefore,
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
const PULL_REQUEST_ACTIONS = ['opened', 'synchronized', 'reopened'];

export const gitea: Forge = {
  name: 'gitea',
  deliveryHeader: 'x-gitea-delivery',

  verify(headers, body, secret) {
    const signature = headers.get('x-gitea-signature');
    if (signature === null) return false;
    return constantTimeEqual(signature.trim().toLowerCase(), hmacSha256Hex(secret, body));
  },

  parse(headers, payload): ParsedDelivery {
    return withStatusTarget(parseEvent(headers, payload), () => statusTarget(record(payload)));
  },
};

function parseEvent(headers: Headers, payload: unknown): ParsedWithoutTarget {
  const event = headers.get('x-gitea-event');
  const body = record(payload);
  switch (event) {
    case 'push': {
      const pusher = record(body.pusher);
      return githubStylePush(body, authorOf(pusher.full_name || pusher.login || pusher.username, pusher.email));
    }
    case 'pull_request':
      return githubStylePullRequest(body, PULL_REQUEST_ACTIONS);
    case 'create':
    case 'delete':
      return { kind: 'ignored', reason: `Gitea event "${event}" starts no run: the push event of the same ref does` };
    case null:
      return { kind: 'ignored', reason: 'no X-Gitea-Event header' };
    default:
      return { kind: 'ignored', reason: `Gitea event "${event}" starts no run (only push and pull_request)` };
  }
}

/**
 * Where Gitea takes the commit status: `repository.full_name` on `repository.html_url`'s base (its origin,
 * or the path Gitea is installed under) + `/api/v1`.
 */
function statusTarget(body: Record<string, unknown>): StatusTarget | null {
  const repository = record(body.repository);
  const fullName = repository.full_name;
  if (typeof fullName !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(fullName)) return null;
  const web = httpUrl(repository.html_url);
  if (web === null) return null;
  return { forge: 'gitea', apiUrl: `${baseBefore(web, fullName)}/api/v1`, repository: fullName };
}
